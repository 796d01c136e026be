//! `dindbox init`: the sandbox's PID 1 (see `crate::init`).

use crate::cli::InitArgs;
use crate::error::{Error, Result};
use crate::init;
use crate::plan::inner::InnerSpec;

pub fn run(args: InitArgs) -> Result<i32> {
    let spec = InnerSpec::from_json(&args.spec).map_err(|e| {
        Error::usage("`dindbox init` got a spec it cannot read")
            .cause(e.to_string())
            .hint("init is started by `dindbox run` inside a sandbox; the sandbox and the host's dindbox must be the same version")
    })?;
    Ok(init::run(&spec))
}
