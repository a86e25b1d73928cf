@testable import Runtime
import XCTest

/// The kernel-config preflight: what it logs for a readable config, a missing option, no file.
final class PreflightTests: XCTestCase {
    let debian61 = "CONFIG_NET_SCH_INGRESS=m\nCONFIG_NET_CLS_U32=m\n# CONFIG_NET_CLS_BASIC is not set\nCONFIG_NET_ACT_MIRRED=m\n"

    func testAReadableConfigWithEveryOptionIsNamedInTheNote() throws {
        let note = try Preflight.checkKernelConfig(path: "/boot/config-6.1.0-amd64", text: debian61)
        XCTAssertEqual(note, "kernel config /boot/config-6.1.0-amd64 has CONFIG_NET_SCH_INGRESS, CONFIG_NET_CLS_U32, CONFIG_NET_ACT_MIRRED")
    }

    func testAConfigWithoutU32NamesTheOptionAndTheModule() {
        let text = debian61.replacingOccurrences(of: "CONFIG_NET_CLS_U32=m\n", with: "")
        XCTAssertThrowsError(try Preflight.checkKernelConfig(path: "/tmp/config", text: text)) { error in
            XCTAssertEqual("\(error)", "the kernel lacks the u32 classifier (CONFIG_NET_CLS_U32, module cls_u32); load the module (modprobe) or use a kernel built with it")
        }
    }

    func testAnUnreadableConfigIsANoteNotAnError() throws {
        let note = try Preflight.checkKernelConfig(path: "/boot/config-x", text: nil)
        XCTAssertTrue(note.contains("/boot/config-x not readable"), note)
    }
}
