//! The fault library: one scenario per fault class under `scenarios/faults/`,
//! each named after its class and striking with it. Every one is replayed
//! with its own seed: its `[expect]` table (recovery bounds, what must be
//! refused or accounted) must hold, so must the invariants of every run
//! (nothing lost silently, no clock running backwards), and its rounded
//! score is snapshotted.

mod common;

use std::collections::BTreeSet;

fn library() -> Vec<(String, String)> {
    let dir = common::repo().join("scenarios/faults");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            (stem.clone(), format!("scenarios/faults/{stem}.toml"))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_fault_class_has_a_scenario_named_after_it_that_uses_it() {
    let mut classes = BTreeSet::new();
    for (stem, file) in library() {
        let scenario = common::load(&file);
        let kinds: BTreeSet<String> = scenario.faults.iter().map(|f| f.kind.name()).collect();
        assert!(
            kinds.contains(&stem),
            "{file}: the file is named after a class it does not use ({kinds:?})"
        );
        classes.insert(stem);
    }
    assert!(classes.len() >= 25, "{} fault classes", classes.len());
}

#[test]
fn every_fault_scenario_meets_its_expectations_and_recovers() {
    for (stem, file) in library() {
        let scenario = common::load(&file);
        let score = camsync_sim::run(&scenario, scenario.seed);
        assert!(
            score.expect.passed,
            "{file} fails its expectations: {:?}\nreplay: camsync run {file} --seed {}",
            score.expect.failures, scenario.seed
        );
        common::assert_invariants(&score, &file);
        insta::assert_json_snapshot!(stem, common::rounded(&score));
    }
}
