//! Arbitrary UTF-8 through the scenario parser, with the `[expect]` keys
//! the command line accepts: it returns a scenario or an error, and never
//! panics.

#![no_main]

use camsync_sim::scenario::Scenario;
use camsync_sim::score::Score;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(scenario) = Scenario::parse(text, "fuzz.toml", &Score::known_key) {
        let _ = scenario.name();
        let _ = scenario.camera_count();
    }
});
