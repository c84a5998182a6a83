//! Replay and simulator sources, on the reference recordings and the reference configs.

use super::*;
use crate::top::model::{Kind, Model};

#[test]
fn replay_plays_apache_prefork_first_ramp_in_time_order() {
    let csv = crate::crate_dir().join("reference/run1/prefork.timeline.csv");
    let mut r = Replay::open(&csv).expect("reference run");
    let mut m = Model::new("replay", Some("prefork"), 1);
    r.advance_to(13.0, &mut m);
    assert_eq!(m.latest().and_then(|r| r.processes), Some(68.0));
    assert_eq!(m.held.partial, 40);
    let times: Vec<f64> = m.feed.iter().map(|e| e.t).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    // The three AH00162 lines of the first ramp (reference README: t=10.85/11.86/12.86).
    let busy = m.feed.iter().filter(|e| e.text.contains("AH00162")).count();
    assert_eq!(busy, 3);
    assert!(!r.finished());
    r.advance_to(1e9, &mut m);
    assert!(r.finished());
    assert!(m.feed.iter().any(|e| e.kind == Kind::MaxWorkers));
}

#[test]
fn simulator_grows_when_a_key_raises_the_target_and_keeps_its_past() {
    let conf = crate::crate_dir().join("reference/run1/prefork.httpd.conf");
    let mut s = Simulated::new(crate::Mpm::Prefork, &conf).expect("config");
    let mut m = Model::new("sim", Some("prefork"), 1);
    s.advance_to(5.0, &mut m);
    let before: Vec<Row> = m.rows.clone();
    assert_eq!(before.last().and_then(|r| r.processes), Some(5.0));
    s.set_target(40);
    s.advance_to(12.0, &mut m);
    // Re-running the simulator with the new phase list reproduced the rows already shown.
    assert_eq!(&m.rows[..before.len()], &before[..]);
    let after = m.latest().and_then(|r| r.processes).unwrap_or(0.0);
    assert!(
        after > 40.0,
        "40 held from t=5 should have grown the pool past 40: {after}"
    );
    assert!(m.rows.windows(2).all(|w| w[0].t < w[1].t));
}
