//! Arguments of `visit`: visits to households and the coverage they give.

use chrono::{DateTime, NaiveDate, Utc};
use clap::Subcommand;
use gridbook_core::{Satisfaction, VisitKind};

#[derive(Debug, Subcommand)]
pub enum VisitCmd {
    /// Record a visit to a household.
    Add {
        /// Household id, or "GRID:ADDRESS".
        #[arg(long)]
        household: String,
        /// home, phone, on_the_spot or follow_up.
        #[arg(long, default_value = "home")]
        kind: VisitKind,
        /// When the visit was (RFC 3339; default now).
        #[arg(long)]
        at: Option<DateTime<Utc>>,
        /// What the visit was for (repeat), e.g. 安全检查.
        #[arg(long = "purpose")]
        purposes: Vec<String>,
        /// What was found or said.
        #[arg(long, default_value = "")]
        notes: String,
        /// For follow-up visits: very_satisfied, satisfied, neutral, dissatisfied.
        #[arg(long)]
        satisfaction: Option<Satisfaction>,
    },
    /// A household's visits, or a resident's: those to their household and to the households of
    /// the residents merged into them.
    List {
        /// Household id, or "GRID:ADDRESS".
        #[arg(long, required_unless_present = "resident", conflicts_with = "resident")]
        household: Option<String>,
        /// Resident id.
        #[arg(long)]
        resident: Option<String>,
    },
    /// Households visited / households, over a range of local days.
    Coverage {
        /// Grid id or name.
        #[arg(long)]
        grid: String,
        /// First local day, YYYY-MM-DD.
        #[arg(long)]
        from: NaiveDate,
        /// Last local day, YYYY-MM-DD (included).
        #[arg(long)]
        to: NaiveDate,
    },
    /// Each household's last visit.
    Last {
        /// Grid id or name.
        #[arg(long)]
        grid: String,
    },
}
