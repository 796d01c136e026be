//! Operations that return data: the CLI in `commands/` only renders what
//! they return and the events they report, so a web page or an export can
//! call the same functions.

pub mod doctor;
pub mod run;
