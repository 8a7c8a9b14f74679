//! When a request is sent again: a network failure a couple of times at once, a busy server (`503`,
//! or `429` for this device's own requests in flight) after the wait it asks for (`Retry-After`),
//! longer each time and a little at random, so that the district's devices do not all come back at
//! once.

use std::time::Duration;

use crate::error::{Error, Result};

/// One try of a request: its error, and how long the server asked to wait before the next.
pub(super) struct Failed {
    pub(super) error: Error,
    pub(super) retry_after: Option<Duration>,
}

pub(super) type Attempt<T> = std::result::Result<T, Failed>;

impl From<Error> for Failed {
    fn from(error: Error) -> Self {
        Self { error, retry_after: None }
    }
}

/// Every request of the exchange is idempotent, so one that failed on the way (a pooled connection
/// the network dropped, a reply cut off) is simply sent again, a couple of times, and one the
/// server was too busy for is sent again after the wait it asked for, a few times, before the sync
/// gives up and leaves the rest to the next one.
pub(super) async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Attempt<T>>,
{
    let mut tries = 0u32;
    let mut busy = 0u32;
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(Failed { retry_after: Some(asked), .. }) if busy < BUSY_RETRIES => {
                busy += 1;
                tokio::time::sleep(busy_wait(asked, busy)).await;
            }
            Err(Failed { error: Error::Network(_), .. }) if tries < RETRIES => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(250 * u64::from(tries))).await;
            }
            Err(failed) => return Err(failed.error),
        }
    }
}

const RETRIES: u32 = 2;
/// Tries after a busy answer before the sync reports the server busy.
const BUSY_RETRIES: u32 = 5;
/// The longest wait for one busy answer, whatever the server asks.
const MAX_BUSY_WAIT: Duration = Duration::from_secs(30);

/// The wait after the `nth` busy answer in a row: at least what the server asked, doubling each
/// time, capped, plus up to half again at random.
fn busy_wait(asked: Duration, nth: u32) -> Duration {
    let base = asked.max(Duration::from_millis(100)).saturating_mul(1 << (nth - 1).min(8)).min(MAX_BUSY_WAIT);
    base + base.mul_f64(unit_random(nth) / 2.0)
}

/// A number in `[0, 1)` that differs between devices and calls. Spreading retries needs no more than
/// std's randomly keyed hasher, so the phone library carries no random-number crate for it.
fn unit_random(salt: u32) -> f64 {
    use std::hash::{BuildHasher, RandomState};
    (RandomState::new().hash_one(salt) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_wait_honours_the_server_grows_and_is_capped() {
        for nth in 1..=BUSY_RETRIES {
            let wait = busy_wait(Duration::from_secs(1), nth);
            let base = Duration::from_secs(1 << (nth - 1)).min(MAX_BUSY_WAIT);
            assert!(wait >= base && wait <= base + base / 2, "{nth}: {wait:?}");
        }
        assert!(busy_wait(Duration::from_secs(3600), 1) <= MAX_BUSY_WAIT + MAX_BUSY_WAIT / 2);
    }
}
