//! The documented shapes (see `cli/README.md`): each record's keys with the type of their value —
//! `text`, `id`, `time`, `day`, `bool`, `int`, `number`, `texts`, or another shape; `?` allows null.

pub type Shape = &'static [(&'static str, &'static str)];

pub const GRID: Shape =
    &[("id", "id"), ("name", "text"), ("village", "text"), ("township", "text"), ("created_at", "time")];
pub const HOUSEHOLD: Shape = &[
    ("id", "id"),
    ("grid_id", "id"),
    ("address", "text"),
    ("head_name", "text"),
    ("phone", "text?"),
    ("care_tags", "texts"),
    ("notes", "text"),
    ("status", "text"),
    ("moved_out_at", "time?"),
];
pub const RESIDENT: Shape = &[
    ("id", "id"),
    ("household_id", "id"),
    ("grid_id", "id"),
    ("name", "text"),
    ("id_number", "text?"),
    ("gender", "text"),
    ("birth_date", "day"),
    ("relation", "text"),
    ("phone", "text?"),
    ("registration", "text"),
    ("care_tags", "texts"),
    ("status", "text"),
    ("status_changed_at", "time?"),
    ("merged_into", "id?"),
];
pub const ROUTINE: Shape = &[
    ("id", "id"),
    ("resident_id", "id"),
    ("household_id", "id"),
    ("grid_id", "id"),
    ("signal", "text"),
    ("deadline", "text"),
    ("days", "texts"),
    ("active", "bool"),
    ("note", "text"),
];
pub const DUE_CHECK: Shape = &[
    ("routine_id", "id"),
    ("resident_id", "id"),
    ("resident_name", "text"),
    ("household_id", "id"),
    ("address", "text"),
    ("signal", "text"),
    ("day", "day"),
    ("deadline_at", "time"),
    ("state", "text"),
    ("at", "time?"),
    ("by", "text?"),
    ("note", "text?"),
    ("outcome", "text?"),
];
pub const OBSERVATION: Shape = &[
    ("id", "id"),
    ("routine_id", "id"),
    ("day", "day"),
    ("at", "time"),
    ("by", "text"),
    ("note", "text"),
    ("outcome", "text?"),
];
pub const VISIT: Shape = &[
    ("id", "id"),
    ("household_id", "id"),
    ("grid_id", "id"),
    ("kind", "text"),
    ("at", "time"),
    ("by", "text"),
    ("purposes", "texts"),
    ("notes", "text"),
    ("satisfaction", "text?"),
];
pub const COVERAGE: Shape =
    &[("grid_id", "id"), ("from", "day"), ("to", "day"), ("households", "int"), ("visited", "int")];
pub const LAST_VISIT: Shape =
    &[("household_id", "id"), ("address", "text"), ("last_visit_at", "time?"), ("last_visit_kind", "text?")];
pub const LOCATION: Shape = &[("lat", "number"), ("lon", "number"), ("accuracy_m", "number")];
pub const EVENT: Shape = &[
    ("id", "id"),
    ("grid_id", "id"),
    ("household_id", "id?"),
    ("category", "text"),
    ("title", "text"),
    ("description", "text"),
    ("location", "location?"),
    ("urgency", "text"),
    ("reported_at", "time"),
    ("reported_by", "text"),
    ("state", "text"),
    ("level", "text"),
    ("department", "text?"),
    ("deadline_at", "time"),
    ("overdue", "bool"),
    ("steps", "steps"),
    ("photos", "photos"),
];
pub const STEP: Shape = &[
    ("id", "id"),
    ("at", "time"),
    ("by", "text"),
    ("action", "text"),
    ("note", "text"),
    ("department", "text?"),
    ("evaluation", "evaluation?"),
];
pub const EVALUATION: Shape = &[
    ("response_speed", "int"),
    ("performance", "int"),
    ("completion", "int"),
    ("feedback", "int"),
    ("comment", "text"),
];
pub const PHOTO: Shape = &[
    ("id", "id"),
    ("sha256", "text"),
    ("width", "int"),
    ("height", "int"),
    ("bytes", "int"),
    ("taken_at", "time"),
    ("location", "location?"),
    ("by", "text"),
];
pub const HISTORY_ENTRY: Shape = &[
    ("at", "time"),
    ("by", "text"),
    ("device", "text"),
    ("verified", "bool"),
    ("signed", "bool"),
    ("action", "text"),
    ("record", "text"),
    ("field", "text"),
    ("value", "text?"),
];
pub const ACCESS_ENTRY: Shape = &[
    ("id", "id"),
    ("grid_id", "id"),
    ("at", "time"),
    ("by", "text"),
    ("device", "text"),
    ("verified", "bool"),
    ("action", "text"),
    ("records", "texts"),
    ("fields", "texts"),
    ("reason", "text"),
];
pub const IMPORT_REPORT: Shape = &[
    ("rows", "int"),
    ("households_added", "int"),
    ("residents_added", "int"),
    ("residents_updated", "int"),
    ("residents_unchanged", "int"),
    ("bad_rows", "bad_rows"),
    ("notes", "notes"),
    ("moves", "moves"),
];
pub const BAD_ROW: Shape = &[("row", "int"), ("reason", "text")];
pub const NOTE: Shape = &[("row", "int"), ("note", "text")];
pub const MOVE: Shape = &[("row", "int"), ("from", "text"), ("to", "text")];
pub const SYNC_STATUS: Shape = &[
    ("last_success_at", "time?"),
    ("pending_changes", "int"),
    ("pending_photo_bytes", "int"),
    ("last_error", "text?"),
    ("refused", "refused"),
];
pub const REFUSED: Shape =
    &[("doc", "text"), ("reason", "text"), ("first_refused_at", "time"), ("last_refused_at", "time")];
pub const ERASURE: Shape = &[("id", "id"), ("kind", "text"), ("state", "text"), ("refused", "text?")];
pub const INIT: Shape = &[("store", "text"), ("grid", "grid?")];
pub const EXPORT: Shape = &[("file", "text"), ("residents", "int"), ("revealed", "bool")];
