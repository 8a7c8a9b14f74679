//! Erasure on the command line: asking for one (`resident erase`, `household erase`) and the list
//! of those this store knows (`erasures`). Ids and states only: an erased record has nothing left
//! to show, and a request's reason stays with the server's notice.

use gridbook_core::{Erasure, ErasureState};
use uuid::Uuid;

use crate::context::Context;
use crate::error::CliError;
use crate::output::json::JsonShape;
use crate::output::{Table, json, outln, show};

/// Says that the erasure of `id` was asked for, and when it happens.
pub fn asked(ctx: &Context, id: Uuid, kind: &'static str) -> Result<(), CliError> {
    let erasure = Erasure { id, kind, state: ctx.store.erasure_state(id)? };
    if ctx.json {
        return json(&erasure.json_shape());
    }
    outln!("asked to erase {kind} {id}: the next sync sends the request; it stays here until the server erases it")
}

pub fn erasures(ctx: &Context) -> Result<(), CliError> {
    show(ctx.json, &ctx.store.erasures()?, |list| {
        let mut t = Table::new(&["id", "kind", "state"]);
        for e in list {
            t.row(vec![e.id.to_string(), e.kind.to_string(), state_text(e.state)]);
        }
        t
    })
}

fn state_text(state: ErasureState) -> String {
    match state {
        ErasureState::NotRequested => "not requested".into(),
        ErasureState::Requested => "requested".into(),
        ErasureState::Refused { reason } => format!("refused ({})", reason.as_str()),
        ErasureState::Erased => "erased".into(),
    }
}
