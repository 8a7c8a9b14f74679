//! Events with photos: photos checked, resized, stored once by SHA-256; steps in order only, each
//! kept with who, when and a note; deadlines by urgency; open and overdue lists.

// Test helpers fail loudly: a panic is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::Fixture;
use gridbook_core::{
    Error, ErrorKind, Evaluation, EventPolicy, EventState, Level, Location, NewEvent, PhotoOptions, StepAction, Urgency,
};

fn report(urgency: Urgency) -> NewEvent {
    NewEvent {
        category: "市政设施".into(),
        title: "路灯不亮".into(),
        description: "村口路灯连续三晚不亮".into(),
        location: Some(Location { lat: 30.2741, lon: 120.1551, accuracy_m: 12.0 }),
        household_id: None,
        urgency,
    }
}

fn evaluation() -> Evaluation {
    Evaluation {
        response_speed: 5, performance: 4, completion: 5, feedback: 4, comment: "第二天就修好了".into()
    }
}

fn photo(dir: &std::path::Path, name: &str, w: u32, h: u32) -> std::path::PathBuf {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, ((x + y) * 255 / (w + h)) as u8])
    });
    let path = dir.join(name);
    img.save(&path).unwrap();
    path
}

#[test]
fn photos_are_checked_resized_and_stored_once() {
    let f = Fixture::with("王芳", |c| c.photos = PhotoOptions { max_long_edge: 1280, ..PhotoOptions::default() });
    let grid = f.grid("第一网格");
    let event = f.store.report_event(grid.id, report(Urgency::Routine)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jpeg = photo(dir.path(), "big.jpg", 4000, 3000);
    let png = photo(dir.path(), "tall.png", 900, 2000);
    let a = f.store.attach_photo(event.id, &jpeg, None, None).unwrap();
    assert_eq!((a.width, a.height), (1280, 960), "long edge as configured");
    assert!(a.bytes < 400 << 10, "small enough for 2G: {} bytes", a.bytes);
    let b =
        f.store.attach_photo(event.id, &png, None, Some(Location { lat: 30.0, lon: 120.0, accuracy_m: 5.0 })).unwrap();
    assert_eq!((b.width, b.height), (576, 1280));
    let again = f.store.attach_photo(event.id, &jpeg, None, None).unwrap();
    assert_eq!(again.sha256, a.sha256, "the same photo is the same content");
    assert_eq!(
        gridbook_core::prepare_photo(&std::fs::read(&jpeg).unwrap(), &f.store.config().photos).unwrap().0,
        f.store.photo(&a.sha256).unwrap().unwrap()
    );
    let stored = std::fs::read_dir(f.store.dir().join("photos")).unwrap().count();
    assert_eq!(stored, 2, "two distinct photos on disk, whatever was attached three times");

    let text = dir.path().join("note.jpg");
    std::fs::write(&text, "不是图片").unwrap();
    assert!(matches!(f.store.attach_photo(event.id, &text, None, None), Err(Error::NotAnImage)));
    let truncated = dir.path().join("cut.jpg");
    std::fs::write(&truncated, &std::fs::read(&jpeg).unwrap()[..2000]).unwrap();
    let cut = f.store.attach_photo(event.id, &truncated, None, None);
    assert!(matches!(cut, Err(Error::NotAnImage)), "{cut:?}");
    let gif = dir.path().join("x.gif");
    std::fs::write(&gif, b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").unwrap();
    assert!(matches!(f.store.attach_photo(event.id, &gif, None, None), Err(Error::NotAnImage)));
    assert_eq!(f.store.event(event.id).unwrap().photos.len(), 3, "refused photos leave nothing behind");
}

#[test]
fn an_event_goes_through_dispatch_accept_resolve_evaluate_and_close_with_every_step_kept() {
    let f = Fixture::new("王芳");
    let grid = f.grid("第一网格");
    let e = f.store.report_event(grid.id, report(Urgency::Routine)).unwrap();
    assert_eq!((e.state, e.level, e.reported_by.as_str()), (EventState::Reported, Level::Community, "王芳"));
    let steps = [
        (StepAction::Dispatch { department: "市政维修".into() }, EventState::Dispatched),
        (StepAction::Accept, EventState::Accepted),
        (StepAction::Resolve, EventState::Resolved),
        (StepAction::Evaluate(evaluation()), EventState::Evaluated),
        (StepAction::Close, EventState::Closed),
    ];
    for (i, (action, state)) in steps.into_iter().enumerate() {
        f.clock.set(common::noon() + Duration::hours(i as i64 + 1));
        let after = f.store.event_step(e.id, action, &format!("第{i}步")).unwrap();
        assert_eq!(after.state, state);
    }
    let done = f.store.event(e.id).unwrap();
    assert_eq!(done.department.as_deref(), Some("市政维修"));
    assert_eq!(done.steps.len(), 5);
    assert!(done.steps.iter().enumerate().all(|(i, s)| s.by == "王芳" && s.note == format!("第{i}步")));
    assert_eq!(done.steps[4].at, common::noon() + Duration::hours(5));
    assert!(f.store.open_events(None, None).unwrap().is_empty());
}

#[test]
fn steps_out_of_order_are_refused_and_send_back_and_escalation_work() {
    let f = Fixture::new("王芳");
    let grid = f.grid("第一网格");
    let e = f.store.report_event(grid.id, report(Urgency::Routine)).unwrap();
    for action in [StepAction::Accept, StepAction::Resolve, StepAction::Evaluate(evaluation()), StepAction::Close] {
        let err = f.store.event_step(e.id, action, "").unwrap_err();
        assert!(matches!(err, Error::StepOutOfOrder { state: "reported", .. }), "{err}");
        assert_eq!(err.kind(), ErrorKind::StepOutOfOrder);
    }
    let err = f.store.event_step(e.id, StepAction::Dispatch { department: " ".into() }, "").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "a dispatch names its department");
    f.store.event_step(e.id, StepAction::Dispatch { department: "供电所".into() }, "").unwrap();
    let back = f.store.event_step(e.id, StepAction::SendBack, "不属于我们").unwrap();
    assert_eq!((back.state, back.department.clone()), (EventState::Reported, None));
    assert_eq!(f.store.event_step(e.id, StepAction::Escalate, "").unwrap().level, Level::Street);
    assert_eq!(f.store.event_step(e.id, StepAction::Escalate, "").unwrap().level, Level::District);
    let err = f.store.event_step(e.id, StepAction::Escalate, "").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "nothing above the district: {err}");
    f.store.event_step(e.id, StepAction::SolveOnSpot, "现场处理").unwrap();
    assert_eq!(f.store.event(e.id).unwrap().steps.len(), 5, "refused steps are not kept");

    let other = f.store.report_event(grid.id, report(Urgency::Urgent)).unwrap();
    for action in [StepAction::Dispatch { department: "供电所".into() }, StepAction::Accept, StepAction::Resolve] {
        f.store.event_step(other.id, action, "").unwrap();
    }
    let bad = Evaluation { response_speed: 6, ..evaluation() };
    let err = f.store.event_step(other.id, StepAction::Evaluate(bad), "").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "ratings are 1 to 5: {err}");
}

#[test]
fn urgency_sets_the_deadlines_and_overdue_events_are_listed() {
    let f = Fixture::with("王芳", |c| {
        c.events = EventPolicy { urgent_response: Duration::hours(1), routine_handling: Duration::hours(24) };
    });
    let grid = f.grid("第一网格");
    let urgent = f.store.report_event(grid.id, report(Urgency::Urgent)).unwrap();
    let routine = f.store.report_event(grid.id, report(Urgency::Routine)).unwrap();
    assert_eq!(urgent.deadline_at, common::noon() + Duration::hours(1));
    assert_eq!(routine.deadline_at, common::noon() + Duration::hours(24));
    assert!(f.store.overdue_events(None).unwrap().is_empty());

    f.clock.set(common::noon() + Duration::minutes(61));
    let overdue = f.store.overdue_events(Some(grid.id)).unwrap();
    assert_eq!(overdue.iter().map(|e| e.id).collect::<Vec<_>>(), [urgent.id]);
    assert!(overdue[0].overdue);
    // Accepting meets an urgent event's deadline.
    f.store.event_step(urgent.id, StepAction::Dispatch { department: "派出所".into() }, "").unwrap();
    f.store.event_step(urgent.id, StepAction::Accept, "").unwrap();
    assert!(f.store.overdue_events(None).unwrap().is_empty());

    f.clock.set(Utc.with_ymd_and_hms(2026, 11, 21, 5, 0, 0).unwrap());
    assert_eq!(f.store.overdue_events(None).unwrap().iter().map(|e| e.id).collect::<Vec<_>>(), [routine.id]);
    let open = f.store.open_events(None, Some(EventState::Reported)).unwrap();
    assert_eq!(open.iter().map(|e| e.id).collect::<Vec<_>>(), [routine.id]);
    assert_eq!(f.store.open_events(Some(grid.id), None).unwrap().len(), 2);
}
