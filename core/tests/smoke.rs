use gridbook_core::*;
use std::collections::BTreeSet;

#[test]
fn smoke() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::new("王芳", "phone-1")).unwrap();
    let grid = store
        .create_grid(NewGrid { name: "第三网格".into(), village: "幸福村".into(), township: "城关镇".into() })
        .unwrap();
    let h = store
        .add_household(
            grid.id,
            NewHousehold { address: "3栋2单元501".into(), head_name: "李建国".into(), ..Default::default() },
        )
        .unwrap();
    let r = store
        .add_resident(
            h.id,
            NewResident {
                name: "李建国".into(),
                id_number: Some("11010519491231002X".into()),
                gender: None,
                birth_date: None,
                relation: Relation::Head,
                phone: Some("13800138000".into()),
                registration: Registration::Registered,
                care_tags: [CareTag::LivingAlone].into(),
            },
        )
        .unwrap();
    let rt = store
        .add_routine(
            r.id,
            NewRoutine {
                signal: SignalKind::Curtains,
                deadline: chrono::NaiveTime::from_hms_opt(7, 30, 0).unwrap(),
                days: Day::ALL.into_iter().collect(),
                note: String::new(),
            },
        )
        .unwrap();
    store.record_sighting(rt.id, None, None, "open").unwrap();
    let due = store.due_checks(None, store.today()).unwrap();
    println!("{due:?}");
    store
        .record_visit(
            h.id,
            NewVisit {
                kind: VisitKind::Home,
                at: None,
                purposes: vec!["safety".into()],
                notes: "ok".into(),
                satisfaction: None,
            },
        )
        .unwrap();
    let e = store
        .report_event(
            grid.id,
            NewEvent {
                category: "safety".into(),
                title: "open well".into(),
                description: "".into(),
                location: None,
                household_id: None,
                urgency: Urgency::Urgent,
            },
        )
        .unwrap();
    store.event_step(e.id, StepAction::Dispatch { department: "housing".into() }, "").unwrap();
    assert!(store.event_step(e.id, StepAction::Resolve, "").is_err());
    store
        .edit_household(
            h.id,
            HouseholdEdit {
                phone: Some(Some("13900139000".into())),
                care_tags: Some(BTreeSet::from([CareTag::Elderly])),
                ..Default::default()
            },
        )
        .unwrap();
    let hist = store.household_history(h.id).unwrap();
    for e in &hist {
        println!("{e:?}");
    }
    let before = store.dump_query_tables().unwrap();
    store.rebuild_query_tables().unwrap();
    assert_eq!(before, store.dump_query_tables().unwrap());
    let other_dir = tempfile::tempdir().unwrap();
    let other = Store::open(other_dir.path(), StoreConfig::new("张伟", "pc")).unwrap();
    let set = store.changes_since(&other.heads().unwrap()).unwrap();
    println!("{:?}", other.apply_changes(&set).unwrap());
    assert_eq!(before, other.dump_query_tables().unwrap());
    println!("{}", store.search_residents("建", None, 10).unwrap().len());
    println!("{:?}", store.coverage(grid.id, store.today(), store.today()).unwrap());
}
