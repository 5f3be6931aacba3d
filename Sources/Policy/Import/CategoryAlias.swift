/// A category directory that is a symbolic link to another category of the same tree (UT1
/// has English names for some French ones, `ads` → `publicite`). Its lists are not imported
/// twice; the alias is reported so that the store can accept the name too.
public struct CategoryAlias: Sendable, Hashable {
    public let name: String
    public let target: String
}
