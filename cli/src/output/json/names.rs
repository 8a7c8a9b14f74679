//! The names the JSON gives enumerations. They are spelled out here, rather than borrowed from the
//! core's serialisation, so that a renamed variant in the store cannot rename a script's value; a
//! new variant fails to compile until it has a name.

use std::collections::BTreeSet;

use gridbook_core::{
    CareTag, Day, EventState, Gender, HouseholdStatus, Level, Outcome, Registration, Relation, ResidentStatus,
    Satisfaction, SignalKind, StepAction, Urgency, VisitKind,
};

/// An enumeration's name in the JSON.
pub trait Name {
    fn json_name(&self) -> &'static str;
}

/// A set's members by name, in alphabetical order: a set has no order of its own, and the names'
/// order does not move when the core reorders its variants.
pub fn names<T: Name>(set: &BTreeSet<T>) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = set.iter().map(Name::json_name).collect();
    names.sort_unstable();
    names
}

macro_rules! names {
    ($($ty:ident { $($variant:pat => $name:literal,)* })*) => {
        $(impl Name for $ty {
            fn json_name(&self) -> &'static str {
                #[allow(clippy::enum_glob_use)]
                use $ty::*;
                match self {
                    $($variant => $name,)*
                }
            }
        })*
    };
}

names! {
    CareTag {
        LivingAlone => "living_alone",
        Elderly => "elderly",
        LowIncome => "low_income",
        Disability => "disability",
        LeftBehindChild => "left_behind_child",
        RentalHousing => "rental_housing",
    }
    Gender {
        Male => "male",
        Female => "female",
    }
    Relation {
        Head => "head",
        Spouse => "spouse",
        Child => "child",
        ChildInLaw => "child_in_law",
        Parent => "parent",
        Grandchild => "grandchild",
        Grandparent => "grandparent",
        Sibling => "sibling",
        Other => "other",
    }
    Registration {
        Registered => "registered",
        Resident => "resident",
        Floating => "floating",
    }
    HouseholdStatus {
        Active => "active",
        MovedOut => "moved_out",
    }
    ResidentStatus {
        Present => "present",
        MovedOut => "moved_out",
        Deceased => "deceased",
    }
    SignalKind {
        Curtains => "curtains",
        Light => "light",
        PhoneCheckIn => "phone_check_in",
        Other => "other",
    }
    Day {
        Mon => "mon",
        Tue => "tue",
        Wed => "wed",
        Thu => "thu",
        Fri => "fri",
        Sat => "sat",
        Sun => "sun",
    }
    Outcome {
        AllWell => "all_well",
        NeededHelp => "needed_help",
        NotHome => "not_home",
        Escalated => "escalated",
        RelativesCalled => "relatives_called",
    }
    VisitKind {
        Home => "home",
        Phone => "phone",
        OnTheSpot => "on_the_spot",
        FollowUp => "follow_up",
    }
    Satisfaction {
        VerySatisfied => "very_satisfied",
        Satisfied => "satisfied",
        Neutral => "neutral",
        Dissatisfied => "dissatisfied",
    }
    Urgency {
        Urgent => "urgent",
        Routine => "routine",
    }
    Level {
        Community => "community",
        Street => "street",
        District => "district",
    }
    EventState {
        Reported => "reported",
        SolvedOnSpot => "solved_on_spot",
        Dispatched => "dispatched",
        Accepted => "accepted",
        Resolved => "resolved",
        Evaluated => "evaluated",
        Closed => "closed",
    }
    StepAction {
        SolveOnSpot => "solve_on_spot",
        Dispatch { .. } => "dispatch",
        Accept => "accept",
        SendBack => "send_back",
        Resolve => "resolve",
        Escalate => "escalate",
        Evaluate(_) => "evaluate",
        Close => "close",
    }
}
