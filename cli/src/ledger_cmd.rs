//! `grid`, `household` and `resident`: the population ledger.

use gridbook_core::{
    Grid, Household, HouseholdEdit, NewGrid, NewHousehold, NewResident, Page, Registration, Relation, Resident,
    ResidentEdit,
};

use crate::args::{GridCmd, HouseholdCmd, HouseholdFields, ResidentCmd, ResidentFields};
use crate::context::Context;
use crate::error::CliError;
use crate::output::{Table, note, opt, show, tags, time};

pub fn grid(ctx: &Context, cmd: GridCmd) -> Result<(), CliError> {
    match cmd {
        GridCmd::Add { name, village, township } => {
            let grid = ctx.store.create_grid(NewGrid { name, village, township })?;
            show(ctx.json, &grid, |g| grid_table(ctx, std::slice::from_ref(g)))
        }
        GridCmd::List => show(ctx.json, &ctx.store.grids()?, |g| grid_table(ctx, g)),
        GridCmd::Show { grid } => {
            let grid = ctx.store.grid(ctx.grid(&grid)?)?;
            show(ctx.json, &grid, |g| grid_table(ctx, std::slice::from_ref(g)))
        }
    }
}

fn grid_table(ctx: &Context, grids: &[Grid]) -> Table {
    let mut t = Table::new(&["id", "name", "village", "township", "created"]);
    let tz = ctx.store.config().timezone;
    for g in grids {
        t.row(vec![g.id.to_string(), g.name.clone(), g.village.clone(), g.township.clone(), time(g.created_at, tz)]);
    }
    t
}

pub fn household(ctx: &Context, cmd: HouseholdCmd) -> Result<(), CliError> {
    match cmd {
        HouseholdCmd::Add { grid, fields } => {
            let grid = ctx.grid(&grid)?;
            let HouseholdFields { address, head, phone, tags, notes } = fields;
            let new = NewHousehold {
                address: address.ok_or_else(|| CliError::Usage("give the household's --address".into()))?,
                head_name: head.ok_or_else(|| CliError::Usage("give the head of the household (--head)".into()))?,
                phone,
                care_tags: tags.into_iter().collect(),
                notes: notes.unwrap_or_default(),
            };
            let h = ctx.store.add_household(grid, new)?;
            show(ctx.json, &h, household_record)
        }
        HouseholdCmd::Edit { household, fields, tag_edits, clear_phone } => {
            let id = ctx.household(&household)?;
            let HouseholdFields { address, head, phone, tags, notes } = fields;
            let edit = HouseholdEdit {
                address,
                head_name: head,
                phone: if clear_phone { Some(None) } else { phone.map(Some) },
                care_tags: tag_edits.apply(&ctx.store.household(id)?.care_tags, tags),
                notes,
            };
            show(ctx.json, &ctx.store.edit_household(id, edit)?, household_record)
        }
        HouseholdCmd::MoveOut { household } => {
            show(ctx.json, &ctx.store.move_out_household(ctx.household(&household)?)?, household_record)
        }
        HouseholdCmd::Show { household } => {
            show(ctx.json, &ctx.store.household(ctx.household(&household)?)?, household_record)
        }
        HouseholdCmd::Reveal { household, reason } => {
            show(ctx.json, &ctx.store.reveal_household(ctx.household(&household)?, &reason)?, household_record)
        }
        HouseholdCmd::Erase { household, reason } => {
            let id = ctx.household(&household)?;
            ctx.store.erase_household(id, &reason)?;
            crate::erasure_cmd::asked(ctx, id.0, "household")
        }
        HouseholdCmd::List { grid, all, offset, limit } => {
            let page = Page { offset, limit: limit.unwrap_or(u32::MAX) };
            let list = ctx.store.households(ctx.grid(&grid)?, all, page)?;
            show(ctx.json, &list, |list| household_table(list))
        }
    }
}

const CONVERTED: &str = "converted a 15-digit ID number to 18 digits";

/// Whether the store will keep `id_number` in the 18-digit form of a 15-digit number (the store
/// itself refuses a number that does not pass, with the reason).
fn converted_from_15(ctx: &Context, id_number: Option<&str>) -> bool {
    id_number
        .and_then(|n| gridbook_core::parse_id_number_on(n, ctx.store.today()).ok())
        .is_some_and(|info| info.converted_from_15)
}

fn household_record(h: &Household) -> Table {
    Table::record(vec![
        ("id", h.id.to_string()),
        ("grid", h.grid_id.to_string()),
        ("address", h.address.clone()),
        ("head", h.head_name.clone()),
        ("phone", opt(&h.phone)),
        ("care tags", tags(&h.care_tags)),
        ("notes", h.notes.clone()),
        ("status", h.status.to_string()),
    ])
}

fn household_table(list: &[Household]) -> Table {
    let mut t = Table::new(&["id", "address", "head", "phone", "care tags", "status"]);
    for h in list {
        t.row(vec![
            h.id.to_string(),
            h.address.clone(),
            h.head_name.clone(),
            opt(&h.phone),
            tags(&h.care_tags),
            h.status.to_string(),
        ]);
    }
    t
}

pub fn resident(ctx: &Context, cmd: ResidentCmd) -> Result<(), CliError> {
    match cmd {
        ResidentCmd::Add { household, fields } => {
            let household = ctx.household(&household)?;
            let f = fields;
            let converted = converted_from_15(ctx, f.id_number.as_deref());
            let new = NewResident {
                name: f.name.ok_or_else(|| CliError::Usage("give the resident's --name".into()))?,
                id_number: f.id_number,
                gender: f.gender,
                birth_date: f.birth,
                relation: f.relation.unwrap_or(Relation::Other),
                phone: f.phone,
                registration: f.registration.unwrap_or(Registration::Registered),
                care_tags: f.tags.into_iter().collect(),
            };
            let r = ctx.store.add_resident(household, new)?;
            if converted {
                note(CONVERTED);
            }
            show(ctx.json, &r, |r| resident_record(ctx, r))
        }
        ResidentCmd::Edit { resident, fields, tag_edits } => {
            let id = ctx.resident(&resident)?;
            let ResidentFields { name, id_number, gender, birth, relation, phone, registration, tags } = fields;
            let converted = converted_from_15(ctx, id_number.as_deref());
            let edit = ResidentEdit {
                name,
                id_number: id_number.map(Some),
                gender,
                birth_date: birth,
                relation,
                phone: phone.map(Some),
                registration,
                care_tags: tag_edits.apply(&ctx.store.resident(id)?.care_tags, tags),
            };
            let r = ctx.store.edit_resident(id, edit)?;
            if converted {
                note(CONVERTED);
            }
            show(ctx.json, &r, |r| resident_record(ctx, r))
        }
        ResidentCmd::MoveOut { resident } => {
            show(ctx.json, &ctx.store.move_out_resident(ctx.resident(&resident)?)?, |r| resident_record(ctx, r))
        }
        ResidentCmd::Deceased { resident } => {
            show(ctx.json, &ctx.store.mark_deceased(ctx.resident(&resident)?)?, |r| resident_record(ctx, r))
        }
        ResidentCmd::Show { resident } => {
            show(ctx.json, &ctx.store.resident(ctx.resident(&resident)?)?, |r| resident_record(ctx, r))
        }
        ResidentCmd::Reveal { resident, reason } => {
            show(ctx.json, &ctx.store.reveal_resident(ctx.resident(&resident)?, &reason)?, |r| resident_record(ctx, r))
        }
        ResidentCmd::Erase { resident, reason } => {
            let id = ctx.resident(&resident)?;
            ctx.store.erase_resident(id, &reason)?;
            crate::erasure_cmd::asked(ctx, id.0, "resident")
        }
        ResidentCmd::List { household } => {
            let list = ctx.store.residents_of(ctx.household(&household)?)?;
            show(ctx.json, &list, |l| resident_table(ctx, l))
        }
        ResidentCmd::Duplicates => {
            let groups = ctx.store.resident_duplicates()?;
            let addresses = groups
                .iter()
                .flat_map(|g| &g.residents)
                .map(|r| Ok((r.household_id, ctx.store.household(r.household_id)?.address)))
                .collect::<Result<std::collections::HashMap<_, _>, CliError>>()?;
            show(ctx.json, &groups, |groups| {
                let mut t = Table::new(&["id number", "resident", "name", "household"]);
                for g in groups {
                    for r in &g.residents {
                        let address = addresses.get(&r.household_id).cloned().unwrap_or_default();
                        t.row(vec![g.id_number_masked.clone(), r.id.to_string(), r.name.clone(), address]);
                    }
                }
                t
            })
        }
        ResidentCmd::Merge { keep, other } => {
            let (keep, other) = (ctx.resident(&keep)?, ctx.resident(&other)?);
            show(ctx.json, &ctx.store.merge_residents(keep, other)?, |r| resident_record(ctx, r))
        }
        ResidentCmd::Search { text, grid, limit } => {
            let list = ctx.store.search_residents(&text, ctx.grid_opt(grid.as_deref())?, limit)?;
            show(ctx.json, &list, |l| resident_table(ctx, l))
        }
        ResidentCmd::Tagged { tag, min_age, grid } => {
            let list = ctx.store.residents_with_tag(tag, min_age, ctx.grid_opt(grid.as_deref())?)?;
            show(ctx.json, &list, |l| resident_table(ctx, l))
        }
    }
}

fn resident_record(ctx: &Context, r: &Resident) -> Table {
    let mut fields = vec![
        ("id", r.id.to_string()),
        ("household", r.household_id.to_string()),
        ("name", r.name.clone()),
        ("id number", opt(&r.id_number)),
        ("gender", r.gender.to_string()),
        ("birth date", r.birth_date.to_string()),
        ("age", r.age_on(ctx.store.today()).to_string()),
        ("relation", r.relation.to_string()),
        ("phone", opt(&r.phone)),
        ("registration", r.registration.to_string()),
        ("care tags", tags(&r.care_tags)),
        ("status", r.status.to_string()),
    ];
    if let Some(keep) = r.merged_into {
        fields.push(("merged into", keep.to_string()));
    }
    Table::record(fields)
}

fn resident_table(ctx: &Context, list: &[Resident]) -> Table {
    let mut t = Table::new(&["id", "name", "age", "gender", "relation", "phone", "care tags", "status"]);
    let today = ctx.store.today();
    for r in list {
        t.row(vec![
            r.id.to_string(),
            r.name.clone(),
            r.age_on(today).to_string(),
            r.gender.to_string(),
            r.relation.to_string(),
            opt(&r.phone),
            tags(&r.care_tags),
            r.status.to_string(),
        ]);
    }
    t
}
