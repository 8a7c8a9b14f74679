//! The population ledger: opening a store, grids, households and residents with their checks, and
//! finding people fast.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::NaiveDate;
use common::{Fixture, household, id_number, resident};
use gridbook_core::{
    CareTag, Error, ErrorKind, Gender, HouseholdEdit, HouseholdId, HouseholdStatus, NewGrid, Page, Relation,
    ResidentEdit, ResidentStatus, Store, StoreConfig,
};

#[test]
fn a_store_reopens_with_everything_as_it_was_in_the_district_time_zone() {
    let f = Fixture::new("王芳");
    let grid = f.grid("第一网格");
    let home = f.household(grid.id, "幸福村一组3号");
    let elder = f.resident(home.id, "张德顺", "19480305", true);
    let f = f.reopen();
    assert_eq!(f.store.grid(grid.id).unwrap(), grid);
    assert_eq!(f.store.household(home.id).unwrap(), home);
    assert_eq!(f.store.resident(elder.id).unwrap(), elder);
    assert_eq!(f.store.config().timezone, gridbook_core::Tz::Asia__Shanghai, "the default district time zone");
    // 04:00 UTC is noon in Shanghai but still the 20th in Urumqi time too; 20:00 UTC is the 21st here.
    assert_eq!(f.store.today(), NaiveDate::from_ymd_opt(2026, 11, 20).unwrap());
    f.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 20, 17, 0, 0).unwrap());
    assert_eq!(f.store.today(), NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(), "01:00 next day in Shanghai");

    let bad = StoreConfig::new("王芳", "phone").with_timezone("Mars/Olympus");
    assert!(matches!(bad, Err(Error::InvalidInput { .. })));
    let urumqi = StoreConfig::new("王芳", "phone").with_timezone("Asia/Urumqi").unwrap();
    assert_eq!(urumqi.timezone.to_string(), "Asia/Urumqi");
    let nobody = Store::open(f.dir.path().join("x"), StoreConfig::new(" ", "phone"));
    assert!(matches!(nobody, Err(Error::InvalidInput { .. })));
    let nowhere =
        f.store.create_grid(NewGrid { name: "第二网格".into(), village: " ".into(), township: String::new() });
    assert!(matches!(nowhere, Err(Error::InvalidInput { field: "village", .. })), "{nowhere:?}");
}

#[test]
fn households_are_added_edited_moved_out_and_listed_in_address_order() {
    let f = Fixture::new("刘敏");
    let grid = f.grid("第一网格");
    for address in ["3栋2单元1001", "10栋1单元101", "3栋2单元501", "3栋10单元101"] {
        f.household(grid.id, address);
    }
    let listed: Vec<String> =
        f.store.households(grid.id, false, Page::ALL).unwrap().into_iter().map(|h| h.address).collect();
    assert_eq!(listed, ["3栋2单元501", "3栋2单元1001", "3栋10单元101", "10栋1单元101"]);
    let first_two = f.store.households(grid.id, false, Page { offset: 1, limit: 2 }).unwrap();
    assert_eq!(first_two.iter().map(|h| h.address.as_str()).collect::<Vec<_>>(), ["3栋2单元1001", "3栋10单元101"]);

    let home = f.store.households(grid.id, false, Page::first(1)).unwrap().remove(0);
    let edited = f
        .store
        .edit_household(
            home.id,
            HouseholdEdit {
                phone: Some(Some("138-1234-5678".into())),
                care_tags: Some([CareTag::LivingAlone].into()),
                notes: Some("钥匙放在邻居家".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(edited.phone.as_deref(), Some("138****5678"), "shown masked");
    let full = f.store.reveal_household(home.id, "核对").unwrap();
    assert_eq!(full.phone.as_deref(), Some("13812345678"), "stored as bare digits");
    assert_eq!(f.store.household(home.id).unwrap(), edited);
    let cleared = f.store.edit_household(home.id, HouseholdEdit { phone: Some(None), ..Default::default() }).unwrap();
    assert_eq!(cleared.phone, None);

    let gone = f.store.move_out_household(home.id).unwrap();
    assert_eq!(gone.status, HouseholdStatus::MovedOut);
    assert!(gone.moved_out_at.is_some());
    assert_eq!(f.store.households(grid.id, false, Page::ALL).unwrap().len(), 3);
    assert_eq!(f.store.households(grid.id, true, Page::ALL).unwrap().len(), 4);
}

#[test]
fn residents_are_added_edited_moved_out_and_marked_deceased() {
    let f = Fixture::new("刘敏");
    let grid = f.grid("第一网格");
    let home = f.household(grid.id, "一组3号");
    let r = f.resident(home.id, "张德顺", "19480305", true);
    assert_eq!((r.gender, r.birth_date), (Gender::Male, NaiveDate::from_ymd_opt(1948, 3, 5).unwrap()));
    let edited = f
        .store
        .edit_resident(
            r.id,
            ResidentEdit {
                relation: Some(Relation::Head),
                phone: Some(Some("13900001111".into())),
                care_tags: Some([CareTag::LivingAlone, CareTag::Elderly].into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(f.store.resident(r.id).unwrap(), edited);
    assert_eq!(f.store.residents_of(home.id).unwrap(), vec![edited]);

    let wife = f.resident(home.id, "李秀英", "19500101", false);
    assert_eq!(f.store.move_out_resident(wife.id).unwrap().status, ResidentStatus::MovedOut);
    assert_eq!(f.store.mark_deceased(r.id).unwrap().status, ResidentStatus::Deceased);
    assert!(f.store.residents_with_tag(CareTag::LivingAlone, None, None).unwrap().is_empty(), "only the present");
}

#[test]
fn an_id_number_must_pass_its_check_character_and_agree_with_birth_and_gender() {
    let f = Fixture::new("刘敏");
    let home = f.household(f.grid("第一网格").id, "一组3号");
    let good = id_number("19480305", true);
    let mut wrong_check = good.clone();
    let last = if good.ends_with('0') { "1" } else { "0" };
    wrong_check.replace_range(17..18, last);
    let cases: Vec<(String, Option<Gender>, Option<NaiveDate>)> = vec![
        (wrong_check, None, None),
        ("33010619480305".into(), None, None),
        ("3301061948030501AX".into(), None, None),
        (good.clone(), Some(Gender::Female), None),
        (good.clone(), None, NaiveDate::from_ymd_opt(1948, 3, 6)),
    ];
    for (number, gender, birth) in cases {
        let new = gridbook_core::NewResident {
            id_number: Some(number.clone()),
            gender,
            birth_date: birth,
            ..resident("张三", "19480305", true)
        };
        let e = f.store.add_resident(home.id, new).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert!(!e.to_string().contains(&number), "the message never echoes the number: {e}");
    }
    let lowercase_x = gridbook_core::NewResident {
        id_number: Some(id_number("19480305", true).to_lowercase()),
        ..resident("张三", "19480305", true)
    };
    f.store.add_resident(home.id, lowercase_x).unwrap();
}

#[test]
fn phone_numbers_and_unknown_ids_are_refused_with_typed_errors() {
    let f = Fixture::new("刘敏");
    let grid = f.grid("第一网格");
    for bad in ["12345", "23812345678", "1381234567a", "138123456789"] {
        let new = gridbook_core::NewHousehold { phone: Some(bad.into()), ..household("一组1号", "张三") };
        assert!(matches!(f.store.add_household(grid.id, new), Err(Error::InvalidPhone)), "{bad}");
    }
    let unknown_grid = gridbook_core::GridId(uuid_v7());
    let e = f.store.add_household(unknown_grid, household("一组1号", "张三")).unwrap_err();
    assert!(matches!(e, Error::NotFound { what: "grid", .. }), "{e}");
    let e = f.store.add_resident(HouseholdId(uuid_v7()), resident("张三", "19480305", true)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.to_string().contains("household"), "{e}");
    let e = f.store.edit_resident(gridbook_core::ResidentId(uuid_v7()), ResidentEdit::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let visit = gridbook_core::NewVisit {
        kind: gridbook_core::VisitKind::Home,
        at: None,
        purposes: vec![],
        notes: String::new(),
        satisfaction: None,
    };
    let e = f.store.record_visit(HouseholdId(uuid_v7()), visit).unwrap_err();
    assert!(matches!(e, Error::NotFound { what: "household", .. }), "{e}");
    let e = f.store.record_sighting(gridbook_core::RoutineId(uuid_v7()), None, None, "").unwrap_err();
    assert!(matches!(e, Error::NotFound { what: "routine", .. }), "{e}");
    let e = f.store.add_household(grid.id, household("  ", "张三")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[test]
fn people_are_found_by_part_of_the_name_by_id_number_by_phone_and_by_care_tag() {
    let f = Fixture::new("刘敏");
    let grid = f.grid("第一网格");
    let other = f.grid("第二网格");
    let home = f.household(grid.id, "一组3号");
    let zhang = f.resident(home.id, "张德顺", "19480305", true);
    let with_phone =
        gridbook_core::NewResident { phone: Some("13812345678".into()), ..resident("欧阳秀英", "19550101", false) };
    let ouyang = f.store.add_resident(home.id, with_phone).unwrap();
    let young = f.resident(home.id, "张小明", "20100101", true);
    f.resident(f.household(other.id, "二组1号").id, "张德顺", "19490101", true);

    let names = |v: Vec<gridbook_core::Resident>| v.into_iter().map(|r| r.name).collect::<Vec<_>>();
    assert_eq!(names(f.store.search_residents("德顺", Some(grid.id), 10).unwrap()), ["张德顺"]);
    assert_eq!(f.store.search_residents("德顺", None, 10).unwrap().len(), 2, "every grid");
    assert_eq!(names(f.store.search_residents("阳秀", None, 10).unwrap()), ["欧阳秀英"]);
    let by_id = f.store.search_residents(&id_number("19480305", true), None, 10).unwrap();
    assert_eq!(by_id.iter().map(|r| r.id).collect::<Vec<_>>(), [zhang.id]);
    assert_eq!(f.store.search_residents("330106194803", Some(grid.id), 10).unwrap()[0].id, zhang.id, "a prefix");
    assert_eq!(f.store.search_residents("12345678", None, 10).unwrap()[0].id, ouyang.id, "the end of a phone");
    assert!(f.store.search_residents("%", None, 10).unwrap().is_empty(), "LIKE wildcards are literal");

    f.store
        .edit_resident(zhang.id, ResidentEdit { care_tags: Some([CareTag::LivingAlone].into()), ..Default::default() })
        .unwrap();
    f.store
        .edit_resident(young.id, ResidentEdit { care_tags: Some([CareTag::LivingAlone].into()), ..Default::default() })
        .unwrap();
    let alone_over_70 = f.store.residents_with_tag(CareTag::LivingAlone, Some(70), Some(grid.id)).unwrap();
    assert_eq!(names(alone_over_70), ["张德顺"]);
    assert_eq!(f.store.residents_with_tag(CareTag::LivingAlone, None, None).unwrap().len(), 2);
}

fn uuid_v7() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}
