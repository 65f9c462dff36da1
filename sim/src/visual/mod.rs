//! The visual tier: a rendered scene, cameras that picture it at their true
//! capture instants, and the engine's visual offset estimator scored against
//! the offsets only the simulator knows.

pub mod camera;
pub mod hybrid;
pub mod photo_scene;
pub mod rig;
pub mod run;
pub mod scene;
pub mod slips;

pub use run::run_visual;
