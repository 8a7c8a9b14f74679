//! Who a store's changes are made as. An enrolled store belongs to its device, held by the person
//! the district's registry names: its changes and records are made as them, and a caller cannot say
//! otherwise. A store not enrolled remembers who last said they work on it, so that a command line
//! need not be told every time, and no name is ever made up.

use rusqlite::{OptionalExtension, params};

use crate::error::{Error, Result};
use crate::store::Store;

/// A person working on a device, as changes and records name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingAs {
    pub user: String,
    pub device: String,
}

const USER: &str = "author.user";
const DEVICE: &str = "author.device";

impl Store {
    /// Who this store's changes are made as when no one says otherwise: its enrolment's holder and
    /// device (if the centre named no holder, the user of the last [`Store::work_as`] on that
    /// device, or else empty), or else the last [`Store::work_as`].
    ///
    /// # Errors
    /// [`Error::Storage`] if the store cannot be read; [`Error::InvalidInput`] if its enrolment is
    /// damaged.
    pub fn default_author(&self) -> Result<Option<WorkingAs>> {
        let remembered = self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT value FROM meta WHERE key = ?1")?;
            let user: Option<String> = stmt.query_row([USER], |r| r.get(0)).optional()?;
            let device: Option<String> = stmt.query_row([DEVICE], |r| r.get(0)).optional()?;
            Ok(user.zip(device).map(|(user, device)| WorkingAs { user, device }))
        })?;
        let Some(enrolment) = self.enrolment()? else { return Ok(remembered) };
        let c = enrolment.certificate;
        let user = match (c.holder.is_empty(), remembered) {
            (false, _) => c.holder,
            (true, Some(r)) if r.device == c.device => r.user,
            (true, _) => String::new(),
        };
        Ok(Some(WorkingAs { user, device: c.device }))
    }

    /// Makes this handle's changes and records as `who`'s from now on, and remembers `who` for the
    /// store's later sessions.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty user or device; [`Error::Forbidden`] if the store is
    /// enrolled and `who` names another device than its enrolment's, or another person than the
    /// holder the centre named; [`Error::Storage`] if the store cannot be written.
    pub fn work_as(&self, who: WorkingAs) -> Result<()> {
        let (user, device) = (who.user.trim(), who.device.trim());
        if user.is_empty() {
            return Err(Error::invalid("user", "say who is working"));
        }
        if device.is_empty() {
            return Err(Error::invalid("device", "name this device"));
        }
        if let Some(enrolment) = self.enrolment()? {
            let c = &enrolment.certificate;
            if device != c.device {
                return Err(Error::Forbidden("this store is enrolled as another device".into()));
            }
            if !c.holder.is_empty() && user != c.holder {
                return Err(Error::Forbidden("this store is enrolled to another person".into()));
            }
        }
        self.write(|c| {
            let mut stmt = c.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?;
            stmt.execute(params![USER, user])?;
            stmt.execute(params![DEVICE, device])?;
            Ok(())
        })?;
        self.set_author(WorkingAs { user: user.to_string(), device: device.to_string() });
        Ok(())
    }
}
