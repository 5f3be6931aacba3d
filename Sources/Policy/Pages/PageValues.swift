/// The facts a local page may show. Every value is HTML-escaped when rendered.
public struct PageValues: Sendable {
    public var status: Int
    public var title: String
    public var reason: String
    public var url: String
    public var host: String
    public var client: String
    public var time: String
    public var requestID: String
    /// For block pages: the policy group, the list's category and name, and the rule.
    public var group: String = ""
    public var category: String = ""
    public var list: String = ""
    public var rule: String = ""

    public init(
        status: Int,
        title: String,
        reason: String,
        url: String = "",
        host: String = "",
        client: String = "",
        time: String = "",
        requestID: String = ""
    ) {
        self.status = status
        self.title = title
        self.reason = reason
        self.url = url
        self.host = host
        self.client = client
        self.time = time
        self.requestID = requestID
    }

    /// The Mustache context: names are the placeholders templates may use.
    var context: [String: String] {
        [
            "status": String(self.status),
            "title": self.title,
            "reason": self.reason,
            "url": self.url,
            "host": self.host,
            "client": self.client,
            "time": self.time,
            "request_id": self.requestID,
            "group": self.group,
            "category": self.category,
            "list": self.list,
            "rule": self.rule,
        ]
    }
}
