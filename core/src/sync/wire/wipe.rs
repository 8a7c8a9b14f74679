//! The server's order to wipe a device's stores, sent when the district centre revoked the device
//! as lost or retired (`PROTOCOL.md`, "Remote wipe"). It travels in a response header, never in the
//! messages' content, which other devices write; and it is signed with the server's key over the
//! device's id, so that a store obeys only the server it enrolled with, and only an order for its
//! own device.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

/// The response header that carries the order: `<reason> <signature, 128 hex digits>`.
pub const WIPE_HEADER: &str = "gridbook-wipe";

/// Why the device is to be wiped, which decides when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WipeReason {
    /// Lost or stolen: the store wipes at once, and the server stored nothing of the request.
    Lost,
    /// Its holder left: the store uploads everything it has not sent, then wipes.
    Retired,
}

impl WipeReason {
    /// The reason as the header and the server's records spell it: `lost`, `retired`.
    pub fn as_str(self) -> &'static str {
        match self {
            WipeReason::Lost => "lost",
            WipeReason::Retired => "retired",
        }
    }

    /// The reason of that spelling.
    pub fn parse(s: &str) -> Option<Self> {
        [WipeReason::Lost, WipeReason::Retired].into_iter().find(|r| r.as_str() == s)
    }
}

/// An order as a header carried it, not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WipeOrder {
    pub reason: WipeReason,
    pub signature: [u8; 64],
}

impl WipeOrder {
    /// The server's order for device `device_id`, signed with its key.
    pub fn sign(key: &SigningKey, reason: WipeReason, device_id: &str) -> Self {
        Self { reason, signature: key.sign(&statement(reason, device_id)).to_bytes() }
    }

    /// The header's value.
    pub fn header_value(&self) -> String {
        format!("{} {}", self.reason.as_str(), hex::encode(self.signature))
    }

    /// Reads a header's value; `None` if it is not a reason and a signature.
    pub fn parse(value: &str) -> Option<Self> {
        let (reason, signature) = value.trim().split_once(' ')?;
        let signature = hex::decode(signature.trim()).ok()?.try_into().ok()?;
        Some(Self { reason: WipeReason::parse(reason)?, signature })
    }

    /// Whether the server of `server_key` ordered this for device `device_id`.
    pub fn verify(&self, server_key: &VerifyingKey, device_id: &str) -> bool {
        server_key.verify_strict(&statement(self.reason, device_id), &Signature::from_bytes(&self.signature)).is_ok()
    }
}

/// What the server signs: `"GBW1" ‖ reason ‖ 0 ‖ device id`.
fn statement(reason: WipeReason, device_id: &str) -> Vec<u8> {
    let mut out = b"GBW1".to_vec();
    out.extend_from_slice(reason.as_str().as_bytes());
    out.push(0);
    out.extend_from_slice(device_id.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_verifies_only_with_its_server_key_for_its_device_and_reason() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let order = WipeOrder::sign(&key, WipeReason::Retired, "device-1");
        let read = WipeOrder::parse(&order.header_value()).expect("parses");
        assert_eq!(read, order);
        assert!(read.verify(&key.verifying_key(), "device-1"));
        assert!(!read.verify(&key.verifying_key(), "device-2"), "another device");
        assert!(!read.verify(&SigningKey::from_bytes(&[8; 32]).verifying_key(), "device-1"), "another server");
        let lost = WipeOrder { reason: WipeReason::Lost, ..read };
        assert!(!lost.verify(&key.verifying_key(), "device-1"), "another reason");
        for bad in ["", "lost", "lost 00", "gone 00", &format!("stolen {}", hex::encode([0; 64]))] {
            assert_eq!(WipeOrder::parse(bad), None, "{bad:?}");
        }
    }
}
