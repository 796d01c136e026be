//! A copy of an image whose files' owners are shifted into a user
//! namespace's ids (`spec::images::ShiftedImage`), for sandboxes whose init
//! makes the namespace: the image's filesystem is exported from a created
//! (never started) container, every entry's uid and gid rewritten on the
//! way, and imported under the copy's tag with the image's configuration.
//! Made once per image and map; remade when the source image changes.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

use serde::Deserialize;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::spec::images::ShiftedImage;
use crate::spec::{IdRange, host_id};

use super::progress::Step;

/// The label that names the image a copy was made from, by its id.
pub const SHIFTED_FROM: &str = "io.dindbox.shifted-from";
/// The label that holds a copy's id maps.
pub const SHIFT_MAPS: &str = "io.dindbox.shifted-maps";

/// The id that `id` of the image is on the host; ids outside the map are
/// the kernel's overflow id inside (nobody), so they are given that.
pub fn shift_id(ranges: &[IdRange], id: u64) -> u64 {
    const NOBODY: u64 = 65534;
    host_id(ranges, id)
        .or_else(|| host_id(ranges, NOBODY))
        .unwrap_or(NOBODY)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Config {
    #[serde(default)]
    env: Option<Vec<String>>,
    #[serde(default)]
    cmd: Option<Vec<String>>,
    #[serde(default)]
    entrypoint: Option<Vec<String>>,
    #[serde(default)]
    working_dir: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    stop_signal: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Inspected {
    id: String,
    #[serde(default)]
    config: Option<Config>,
}

fn inspect(engine: &Engine, image: &str) -> Result<Option<Inspected>> {
    let out = engine.cmd().args(["image", "inspect", image]).output()?;
    if !out.success() {
        return Ok(None);
    }
    let mut list: Vec<Inspected> = serde_json::from_str(&out.stdout).map_err(|e| {
        Error::failure(format!("could not read the inspection of {image}")).cause(e.to_string())
    })?;
    Ok(list.pop())
}

/// `--change` lines that give the imported copy the source's configuration.
fn changes(config: &Config, source_id: &str, shift: &ShiftedImage) -> Vec<String> {
    let json = |v: &[String]| serde_json::to_string(v).expect("strings serialise");
    let mut out = Vec::new();
    for var in config.env.iter().flatten() {
        out.push(format!("ENV {}", env_line(var)));
    }
    if let Some(e) = &config.entrypoint {
        out.push(format!("ENTRYPOINT {}", json(e)));
    }
    if let Some(c) = &config.cmd {
        out.push(format!("CMD {}", json(c)));
    }
    if let Some(w) = config.working_dir.as_deref().filter(|w| !w.is_empty()) {
        out.push(format!("WORKDIR {w}"));
    }
    if let Some(u) = config.user.as_deref().filter(|u| !u.is_empty()) {
        out.push(format!("USER {u}"));
    }
    if let Some(s) = config.stop_signal.as_deref().filter(|s| !s.is_empty()) {
        out.push(format!("STOPSIGNAL {s}"));
    }
    let mut labels = config.labels.clone().unwrap_or_default();
    labels.insert(SHIFTED_FROM.into(), source_id.into());
    labels.insert(SHIFT_MAPS.into(), shift.maps_label());
    for (k, v) in labels {
        out.push(format!(
            "LABEL {k}={}",
            serde_json::to_string(&v).expect("a string serialises")
        ));
    }
    out
}

/// `NAME=VALUE` as ENV takes it: the value quoted as JSON, which ENV reads.
fn env_line(var: &str) -> String {
    let (name, value) = var.split_once('=').unwrap_or((var, ""));
    format!(
        "{name}={}",
        serde_json::to_string(value).expect("a string serialises")
    )
}

/// Make the copy unless it is there, made from the source image as it is
/// now (`source_id`, as the engine inspected it for the plan).
pub fn ensure(engine: &Engine, shift: &ShiftedImage, source_id: &str) -> Result<()> {
    if let Some(copy) = inspect(engine, &shift.tag)? {
        let from = copy
            .config
            .as_ref()
            .and_then(|c| c.labels.as_ref())
            .and_then(|l| l.get(SHIFTED_FROM).cloned());
        if from.as_deref() == Some(source_id) {
            return Ok(());
        }
    }
    let Some(source) = inspect(engine, &shift.source)? else {
        return Err(Error::usage(format!(
            "image `{}` is not on {}",
            shift.source, engine.kind
        ))
        .hint("build dindbox's images with `dindbox image build`, or pull the image"));
    };
    let step = Step::start(format!(
        "making {} (the image's files owned by the sandbox's user namespace; once)",
        shift.tag
    ));
    let config = source.config.unwrap_or_default();
    make(engine, shift, &source.id, &config)?;
    step.done();
    Ok(())
}

fn make(engine: &Engine, shift: &ShiftedImage, source_id: &str, config: &Config) -> Result<()> {
    let name = format!("dindbox-shift-{}", std::process::id());
    engine
        .cmd()
        // Never started: a command only so that an image without one is created.
        .args(["create", "--name", &name, source_id, "/"])
        .run()?;
    let result = export_import(engine, &name, shift, source_id, config);
    let _ = engine.cmd().args(["rm", "-f", &name]).output();
    result
}

fn export_import(
    engine: &Engine,
    container: &str,
    shift: &ShiftedImage,
    source_id: &str,
    config: &Config,
) -> Result<()> {
    let spawn = |args: Vec<String>, stdin: Stdio, stdout: Stdio| {
        Command::new(&engine.binary)
            .args(&engine.global)
            .args(&args)
            .stdin(stdin)
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                Error::failure(format!("could not run {}", engine.binary)).cause(e.to_string())
            })
    };
    let mut export = spawn(
        vec!["export".into(), container.into()],
        Stdio::null(),
        Stdio::piped(),
    )?;
    let mut import_args = vec!["import".to_string()];
    for c in changes(config, source_id, shift) {
        import_args.extend(["--change".to_string(), c]);
    }
    import_args.extend(["-".to_string(), shift.tag.clone()]);
    let mut import = spawn(import_args, Stdio::piped(), Stdio::null())?;
    let reader = export.stdout.take().expect("piped");
    let writer = import.stdin.take().expect("piped");
    let rewritten = rewrite(reader, writer, &shift.uids, &shift.gids);
    if rewritten.is_err() {
        // Never let the import commit a cut-off archive.
        let _ = import.kill();
        let _ = export.kill();
    }
    let failed = |what: &str, child: &mut std::process::Child| -> Option<String> {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        match child.wait() {
            Ok(s) if s.success() => None,
            Ok(s) => Some(format!(
                "`{} {what}` failed ({s}): {}",
                engine.binary,
                err.trim()
            )),
            Err(e) => Some(e.to_string()),
        }
    };
    let export_failed = failed("export", &mut export);
    let import_failed = failed("import", &mut import);
    let result = match export_failed.or(import_failed) {
        Some(why) => Err(Error::failure(format!("could not make {}", shift.tag)).cause(why)),
        None => Ok(()),
    };
    if result.is_err() || rewritten.is_err() {
        let _ = engine.cmd().args(["rmi", "-f", &shift.tag]).output();
    }
    result?;
    rewritten.map_err(|e| {
        Error::failure(format!("could not make {}", shift.tag))
            .cause(format!("rewriting the image's owners: {e}"))
    })
}

/// Copy a tar stream, every entry's owner shifted through the maps.
pub fn rewrite(
    reader: impl Read,
    writer: impl Write,
    uids: &[IdRange],
    gids: &[IdRange],
) -> std::io::Result<()> {
    let mut archive = tar::Archive::new(reader);
    let mut out = tar::Builder::new(writer);
    out.follow_symlinks(false);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let link = entry.link_name()?.map(|l| l.into_owned());
        let pax: Vec<(String, Vec<u8>)> = match entry.pax_extensions()? {
            Some(exts) => exts
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    let key = e.key().ok()?;
                    key.starts_with("SCHILY.xattr.")
                        .then(|| (key.to_string(), e.value_bytes().to_vec()))
                })
                .collect(),
            None => Vec::new(),
        };
        let old = entry.header();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(old.entry_type());
        h.set_mode(old.mode()?);
        h.set_mtime(old.mtime()?);
        h.set_size(old.size()?);
        h.set_uid(shift_id(uids, old.uid()?));
        h.set_gid(shift_id(gids, old.gid()?));
        if let (Ok(Some(major)), Ok(Some(minor))) = (old.device_major(), old.device_minor()) {
            h.set_device_major(major)?;
            h.set_device_minor(minor)?;
        }
        if !pax.is_empty() {
            out.append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), v.as_slice())))?;
        }
        match link {
            Some(target) => {
                h.set_size(0);
                out.append_link(&mut h, &path, &target)?;
            }
            None => out.append_data(&mut h, &path, &mut entry)?,
        }
    }
    out.into_inner()?.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> Vec<IdRange> {
        crate::spec::sample_map()
    }

    #[test]
    fn ids_go_through_the_map_and_the_rest_to_nobody() {
        let m = map();
        assert_eq!(shift_id(&m, 0), 1000);
        assert_eq!(shift_id(&m, 1), 100000);
        assert_eq!(shift_id(&m, 65534), 165533);
        assert_eq!(shift_id(&m, 70000), 165533);
    }

    #[test]
    fn a_rewritten_archive_keeps_content_links_and_long_names_with_shifted_owners() {
        let long = format!("{}/file", "d".repeat(150));
        let mut input = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_size(5);
        h.set_mode(0o4755);
        h.set_uid(0);
        h.set_gid(42);
        input.append_data(&mut h, &long, &b"hello"[..]).unwrap();
        let mut l = tar::Header::new_ustar();
        l.set_entry_type(tar::EntryType::Symlink);
        l.set_size(0);
        l.set_mode(0o777);
        l.set_gid(0);
        l.set_mtime(0);
        l.set_uid(7);
        input.append_link(&mut l, "bin/sh", "dash").unwrap();
        let input = input.into_inner().unwrap();
        let big = [IdRange {
            inside: 0,
            outside: 1_000_000_000,
            count: 65536,
        }];
        let mut output = Vec::new();
        rewrite(&input[..], &mut output, &big, &map()).unwrap();
        let mut a = tar::Archive::new(&output[..]);
        let mut entries = a.entries().unwrap();
        let mut first = entries.next().unwrap().unwrap();
        assert_eq!(first.path().unwrap().to_str().unwrap(), long);
        assert_eq!(first.header().uid().unwrap(), 1_000_000_000);
        assert_eq!(first.header().gid().unwrap(), 100041);
        assert_eq!(first.header().mode().unwrap(), 0o4755);
        let mut text = String::new();
        first.read_to_string(&mut text).unwrap();
        assert_eq!(text, "hello");
        let second = entries.next().unwrap().unwrap();
        assert_eq!(second.link_name().unwrap().unwrap().to_str(), Some("dash"));
        assert_eq!(second.header().uid().unwrap(), 1_000_000_007);
    }

    #[test]
    fn the_copy_keeps_the_images_configuration_and_names_its_source() {
        let config = Config {
            env: Some(vec!["PATH=/usr/bin:/bin".into(), "A=two words".into()]),
            cmd: Some(vec!["/bin/bash".into()]),
            labels: Some(BTreeMap::from([(
                "io.dindbox.engines".into(),
                "podman,docker".into(),
            )])),
            ..Config::default()
        };
        let shift = ShiftedImage::new("localhost/dindbox/sandbox:0.1.0", &map(), &map());
        let c = changes(&config, "sha256:abc", &shift);
        assert!(
            c.contains(&"ENV PATH=\"/usr/bin:/bin\"".to_string()),
            "{c:?}"
        );
        assert!(c.contains(&"ENV A=\"two words\"".to_string()), "{c:?}");
        assert!(c.contains(&"CMD [\"/bin/bash\"]".to_string()), "{c:?}");
        assert!(
            c.contains(&"LABEL io.dindbox.engines=\"podman,docker\"".to_string()),
            "{c:?}"
        );
        assert!(
            c.contains(&"LABEL io.dindbox.shifted-from=\"sha256:abc\"".to_string()),
            "{c:?}"
        );
    }
}
