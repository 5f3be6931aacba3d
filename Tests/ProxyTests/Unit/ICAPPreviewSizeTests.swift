import ICAP
import Testing

@testable import Proxy

/// How many body bytes go to a service as its preview: held in memory until it answers, so
/// never more than `ICAPServiceConfiguration.maxPreview`, whatever its OPTIONS ask for.
struct ICAPPreviewSizeTests {
    @Test func theConfiguredPreviewWinsAndAnOfferedOneIsCapped() {
        #expect(ICAPServiceClient.previewSize(configured: 0, offered: 4096) == 0)
        #expect(ICAPServiceClient.previewSize(configured: 2048, offered: nil) == 2048)
        #expect(ICAPServiceClient.previewSize(configured: nil, offered: 1024) == 1024)
        #expect(ICAPServiceClient.previewSize(configured: nil, offered: nil) == nil)
        // A service asking for gigabytes gets the cap: a client may send less (RFC 3507 §4.5).
        #expect(
            ICAPServiceClient.previewSize(configured: nil, offered: 2_000_000_000)
                == ICAPServiceConfiguration.maxPreview)
    }
}
