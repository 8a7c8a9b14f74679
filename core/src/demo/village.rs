//! Making the village, day by day: the ledger first (a day before the first day of checks), then
//! each day's curtain checks, visits and events at the hours they would happen, with the clock set
//! to each one's time so that every record and change carries it.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::{VillageSpec, VillageSummary, names};
use crate::{
    CareTag, Day, Evaluation, Gender, GridId, HouseholdId, Location, ManualClock, NewEvent, NewGrid, NewHousehold,
    NewResident, NewRoutine, NewVisit, Outcome, Registration, Relation, ResidentId, Result, RoutineId, Satisfaction,
    SignalKind, StepAction, Store, Tz, Urgency, VisitKind,
};

/// Makes the village in `store`, whose time `clock` says; `now` is when the village's story ends,
/// in the district's time zone `tz`.
pub(super) fn make(
    store: &Store,
    clock: ManualClock,
    spec: &VillageSpec,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<VillageSummary> {
    let mut v = Village {
        store,
        clock,
        rng: StdRng::seed_from_u64(spec.seed),
        summary: VillageSummary::default(),
        id_numbers: Default::default(),
    };
    let today = now.with_timezone(&tz).date_naive();
    let first = today - Duration::days(i64::from(spec.days_of_checks.max(1)) - 1);
    let at = |day: NaiveDate, h: u32, m: u32| -> DateTime<Utc> {
        let local = day.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default());
        tz.from_local_datetime(&local).earliest().map_or(now, |t| t.with_timezone(&Utc)).min(now)
    };
    v.clock.set(at(first - Duration::days(1), 9, 0));
    let homes = v.ledger(spec)?;
    let routines = v.routines(spec, &homes)?;
    let days: Vec<NaiveDate> = (0..spec.days_of_checks.max(1)).map(|d| first + Duration::days(i64::from(d))).collect();
    let visits_per_day = spec.visits.div_ceil(days.len());
    let events_per_day = spec.events as f64 / days.len() as f64;
    let mut events_made = 0.0;
    for (i, &day) in days.iter().enumerate() {
        v.checks(&routines, day, &at)?;
        let visits = visits_per_day.min(spec.visits - v.summary.visits);
        for n in 0..visits {
            let when = at(day, 9 + (n * 7 / visits.max(1)) as u32, (n * 13 % 60) as u32);
            v.visit(&homes, when)?;
        }
        events_made += events_per_day;
        while (v.summary.events as f64) < events_made.floor() && v.summary.events < spec.events {
            let recent = days.len() - i <= 2;
            v.event(&homes, at(day, 10, 30), recent)?;
        }
    }
    v.clock.set(now);
    Ok(v.summary)
}

/// A household as made, with its residents and whether each is elderly and living alone.
type Home = (GridId, HouseholdId, Vec<(ResidentId, bool)>);

struct Village<'a> {
    store: &'a Store,
    clock: ManualClock,
    rng: StdRng,
    summary: VillageSummary,
    /// The ID numbers given so far: the store refuses a second resident with one of them.
    id_numbers: std::collections::HashSet<String>,
}

impl Village<'_> {
    /// A new ID number for the birth date and gender; another draw when one was given already, so
    /// that a village the seed made once is made the same again.
    fn id_number(&mut self, birth: NaiveDate, gender: Gender) -> String {
        loop {
            let number = names::id_number(&mut self.rng, birth, gender);
            if self.id_numbers.insert(number.clone()) {
                return number;
            }
        }
    }

    fn ledger(&mut self, spec: &VillageSpec) -> Result<Vec<Home>> {
        let places = [("幸福村", "城关街道"), ("光明社区", "城关街道"), ("青山村", "青山镇")];
        let mut grids = Vec::new();
        for g in 0..spec.grids.max(1) {
            let (village, township) = places[g % places.len()];
            let numbers = ["一", "二", "三", "四", "五", "六", "七", "八"];
            let name = format!("{village}第{}网格", numbers[g % numbers.len()]);
            let grid = self.store.create_grid(NewGrid { name, village: village.into(), township: township.into() })?;
            grids.push((grid.id, village));
            self.summary.grids.push(grid.id);
        }
        let mut homes = Vec::new();
        let mut residents_left = spec.residents;
        let mut alone_so_far = 0;
        for h in 0..spec.households {
            let (grid, village) = grids[h % grids.len()];
            let address = if village.ends_with('村') {
                format!("{village}{}组{}号", h / 40 + 1, h % 40 + 1)
            } else {
                format!("幸福小区{}栋{}单元{}", h / 24 + 1, h % 24 / 8 + 1, (h % 8 / 2 + 1) * 100 + h % 2 + 1)
            };
            let households_left = spec.households - h;
            // One to five people, spread so that the residents asked for are all placed: the share
            // still to place, give or take one, as long as what remains still fits the households left.
            let share = residents_left.div_ceil(households_left.max(1));
            let jittered = (share + [0, 1, 1, 2].choose(&mut self.rng).copied().unwrap_or(1)).saturating_sub(1);
            let fits = |n: usize| {
                let rest = residents_left.saturating_sub(n);
                households_left == 1 || (rest >= households_left - 1 && rest <= 4 * (households_left - 1))
            };
            let size = if fits(jittered.clamp(1, 5)) { jittered } else { share }.clamp(1, 5);
            // About one household in seven is an old person living alone: the ones curtain checks are
            // for. Enough of them are kept in step through the ledger that every routine asked for
            // has someone, whatever the dice say.
            let wanted = spec.routines.saturating_sub(alone_so_far);
            let behind =
                wanted > 0 && (households_left <= wanted || alone_so_far * spec.households <= spec.routines * h);
            let alone = size == 1
                || behind
                || (households_left > 1 && residents_left > households_left && self.rng.random_bool(0.15));
            alone_so_far += usize::from(alone);
            let size = if alone { 1 } else { size };
            let head_gender = if self.rng.random_bool(0.5) { Gender::Male } else { Gender::Female };
            let head_birth =
                if alone { names::birth(&mut self.rng, 1935, 1955) } else { names::birth(&mut self.rng, 1945, 1988) };
            let head_name = names::person(&mut self.rng, head_gender);
            let mut tags = std::collections::BTreeSet::new();
            if alone {
                tags.extend([CareTag::LivingAlone, CareTag::Elderly]);
            }
            if self.rng.random_bool(0.05) {
                tags.insert(CareTag::LowIncome);
            }
            let phone = Some(format!("1{}{:09}", [3, 5, 8, 9][h % 4], self.rng.random_range(0..1_000_000_000u64)));
            let new = NewHousehold {
                address,
                head_name: head_name.clone(),
                phone: phone.clone(),
                care_tags: tags.clone(),
                notes: String::new(),
            };
            let home = self.store.add_household(grid, new)?;
            self.summary.households += 1;
            let mut people = Vec::new();
            for r in 0..size.min(residents_left.max(1)) {
                let (relation, gender, birth, name) = match r {
                    0 => (Relation::Head, head_gender, head_birth, head_name.clone()),
                    1 => {
                        let g = if head_gender == Gender::Male { Gender::Female } else { Gender::Male };
                        let b = head_birth + Duration::days(self.rng.random_range(-1500..1500));
                        (Relation::Spouse, g, b, names::person(&mut self.rng, g))
                    }
                    _ => {
                        let g = if self.rng.random_bool(0.5) { Gender::Male } else { Gender::Female };
                        let lo = (head_birth.year() + 20).min(2020);
                        let relation = if lo + 25 < 2020 && r >= 3 { Relation::Grandchild } else { Relation::Child };
                        let b = names::birth(&mut self.rng, lo, (lo + 12).min(2022));
                        (relation, g, b, names::person(&mut self.rng, g))
                    }
                };
                let elderly = birth.year() <= 1960;
                let mut care = std::collections::BTreeSet::new();
                if elderly {
                    care.insert(CareTag::Elderly);
                }
                if alone {
                    care.insert(CareTag::LivingAlone);
                }
                if self.rng.random_bool(0.03) {
                    care.insert(CareTag::Disability);
                }
                let resident = self.store.add_resident(
                    home.id,
                    NewResident {
                        name,
                        id_number: Some(self.id_number(birth, gender)),
                        gender: Some(gender),
                        birth_date: Some(birth),
                        relation,
                        phone: if r == 0 { phone.clone() } else { None },
                        registration: if self.rng.random_bool(0.9) {
                            Registration::Registered
                        } else {
                            Registration::Floating
                        },
                        care_tags: care,
                    },
                )?;
                residents_left = residents_left.saturating_sub(1);
                self.summary.residents += 1;
                people.push((resident.id, alone && elderly));
            }
            homes.push((grid, home.id, people));
        }
        Ok(homes)
    }

    fn routines(&mut self, spec: &VillageSpec, homes: &[Home]) -> Result<Vec<RoutineId>> {
        let candidates =
            homes.iter().flat_map(|(_, _, people)| people.iter().filter(|(_, alone)| *alone).map(|(id, _)| *id));
        let mut routines = Vec::new();
        for resident in candidates.take(spec.routines) {
            let signal = [SignalKind::Curtains, SignalKind::Curtains, SignalKind::Light, SignalKind::PhoneCheckIn]
                .choose(&mut self.rng)
                .copied()
                .unwrap_or(SignalKind::Curtains);
            let new = NewRoutine {
                signal,
                deadline: NaiveTime::from_hms_opt(7, [0, 30, 30, 45][routines.len() % 4], 0).unwrap_or_default(),
                days: Day::ALL.into_iter().collect(),
                note: ["拉开东面窗帘", "阳台灯亮", "早上给网格员打电话"][routines.len() % 3].into(),
            };
            routines.push(self.store.add_routine(resident, new)?.id);
        }
        self.summary.routines = routines.len();
        Ok(routines)
    }

    fn checks(
        &mut self,
        routines: &[RoutineId],
        day: NaiveDate,
        at: &impl Fn(NaiveDate, u32, u32) -> DateTime<Utc>,
    ) -> Result<()> {
        let now = at(day, 23, 59);
        for &routine in routines {
            if self.rng.random_bool(0.95) {
                let seen = at(day, 6, self.rng.random_range(10..59));
                if seen >= now {
                    // Today, before it happened.
                    continue;
                }
                self.clock.set(seen);
                self.store.record_sighting(routine, Some(day), Some(seen), "")?;
            } else {
                if at(day, 8, 40) >= now {
                    continue;
                }
                self.clock.set(at(day, 8, 40));
                let outcome = [
                    Outcome::AllWell,
                    Outcome::AllWell,
                    Outcome::NotHome,
                    Outcome::RelativesCalled,
                    Outcome::NeededHelp,
                    Outcome::Escalated,
                ]
                .choose(&mut self.rng)
                .copied()
                .unwrap_or(Outcome::AllWell);
                self.store.record_follow_up(routine, Some(day), outcome, "上门敲门确认")?;
            }
            self.summary.checks += 1;
        }
        Ok(())
    }

    fn visit(&mut self, homes: &[Home], when: DateTime<Utc>) -> Result<()> {
        let Some((_, home, _)) = homes.choose(&mut self.rng) else { return Ok(()) };
        self.clock.set(when);
        let kind = [VisitKind::Home, VisitKind::Home, VisitKind::Phone, VisitKind::OnTheSpot, VisitKind::FollowUp]
            .choose(&mut self.rng)
            .copied()
            .unwrap_or(VisitKind::Home);
        let purposes = names::PURPOSES.choose_multiple(&mut self.rng, 2).map(|p| (*p).to_string()).collect();
        let satisfaction = (kind == VisitKind::FollowUp).then(|| {
            [Satisfaction::VerySatisfied, Satisfaction::Satisfied, Satisfaction::Satisfied, Satisfaction::Neutral]
                .choose(&mut self.rng)
                .copied()
                .unwrap_or(Satisfaction::Satisfied)
        });
        let notes = ["家中一切正常", "老人血压偏高，提醒按时服药", "已讲解防诈骗知识", "子女不在家，留了联系卡"]
            .choose(&mut self.rng)
            .copied()
            .unwrap_or_default()
            .to_string();
        self.store.record_visit(*home, NewVisit { kind, at: Some(when), purposes, notes, satisfaction })?;
        self.summary.visits += 1;
        Ok(())
    }

    fn event(&mut self, homes: &[Home], when: DateTime<Utc>, recent: bool) -> Result<()> {
        let Some((grid, home, _)) = homes.choose(&mut self.rng) else { return Ok(()) };
        let (category, title) = names::CATEGORIES.choose(&mut self.rng).copied().unwrap_or(("其他", "其他"));
        self.clock.set(when);
        let urgency = if self.rng.random_bool(0.2) { Urgency::Urgent } else { Urgency::Routine };
        let location = Location {
            lat: 30.27 + self.rng.random_range(0.0..0.02),
            lon: 120.15 + self.rng.random_range(0.0..0.02),
            accuracy_m: 15.0,
        };
        let event = self.store.report_event(
            *grid,
            NewEvent {
                category: category.into(),
                title: title.into(),
                description: format!("{title}，请尽快处理"),
                location: Some(location),
                household_id: self.rng.random_bool(0.5).then_some(*home),
                urgency,
            },
        )?;
        self.summary.events += 1;
        // Recent events stay open (some of them overdue); older ones went further along, a few after
        // the first department sent them back, and not every department was rated well.
        let target = if recent { self.rng.random_range(0..3) } else { self.rng.random_range(0..9) };
        let department = names::DEPARTMENTS.choose(&mut self.rng).copied().unwrap_or("市政维修").to_string();
        let other = names::DEPARTMENTS.choose(&mut self.rng).copied().unwrap_or("城管中队").to_string();
        let rating =
            |rng: &mut StdRng| if rng.random_bool(0.15) { rng.random_range(1..=3) } else { rng.random_range(4..=5) };
        let evaluation = Evaluation {
            response_speed: rating(&mut self.rng),
            performance: rating(&mut self.rng),
            completion: rating(&mut self.rng),
            feedback: rating(&mut self.rng),
            comment: ["处理及时", "态度很好", "拖了好几天才来", "问题已解决，居民满意"]
                .choose(&mut self.rng)
                .copied()
                .unwrap_or("处理及时")
                .into(),
        };
        let dispatch = StepAction::Dispatch { department };
        let steps: Vec<StepAction> = match target {
            0 => vec![],
            1 => vec![StepAction::SolveOnSpot],
            2 => vec![dispatch],
            3 => vec![dispatch, StepAction::Accept],
            4 => vec![dispatch, StepAction::Accept, StepAction::Resolve],
            5 => vec![dispatch, StepAction::Accept, StepAction::Resolve, StepAction::Evaluate(evaluation)],
            6 => vec![StepAction::SolveOnSpot, StepAction::Close],
            7 => vec![
                dispatch,
                StepAction::SendBack,
                StepAction::Dispatch { department: other },
                StepAction::Accept,
                StepAction::Resolve,
                StepAction::Evaluate(evaluation),
                StepAction::Close,
            ],
            _ => vec![
                dispatch,
                StepAction::Accept,
                StepAction::Resolve,
                StepAction::Evaluate(evaluation),
                StepAction::Close,
            ],
        };
        let mut t = when;
        for step in steps {
            t += Duration::minutes(self.rng.random_range(20..300));
            self.clock.set(t);
            self.store.event_step(event.id, step, "")?;
        }
        Ok(())
    }
}
