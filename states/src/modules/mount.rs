//! `mount.mounted`, `mount.unmounted`, `mount.swap` and the `mount` `mod_watch`
//! (salt/states/mount.py, Linux path), over [`crate::exec::mounts`].
//!
//! Results and comments are Salt's, quirks included: after a forced remount `result` is
//! the raw return of the remount (an error text counts as success), persisted comments
//! start with `. ` even when nothing came before, test mode of `mount.swap` says "set to
//! be added to the fstab and to be activated" only when the swap is already active, and
//! the mount cache (`{cachedir}/mounts`) forces a remount when an option was dropped.

use super::{Registry, StateCall};
use crate::exec::kmod::shlex_split;
use crate::exec::mounts::{
    self, FstabStatus, MatchOn, OptionRules, Returned, SetFstab, DEFAULT_FSTAB,
};
use crate::exec::pystr::py_rstrip;
use halite_core::{Error, Map, Result, Value};

/// Register the `mount` module.
pub fn register(r: &mut Registry) {
    r.add("mount.mounted", mounted);
    r.add("mount.unmounted", unmounted);
    r.add("mount.swap", swap);
    r.add_mod_watch("mount", mod_watch);
}

/// A state return in Salt's `mount` key order (name, changes, result, comment); `result`
/// may be any value (Salt stores a remount's error text there).
fn fin(name: &Value, changes: Map, result: Value, comment: impl Into<String>) -> Result<Map> {
    let mut m = Map::with_capacity_and_hasher(4, Default::default());
    m.insert("name".into(), name.clone());
    m.insert("changes".into(), Value::Map(changes));
    m.insert("result".into(), result);
    m.insert("comment".into(), Value::Str(comment.into()));
    Ok(m)
}

/// `opts` as the states take it: a string split on `,`, a list as its items.
fn opts_list(v: Option<&Value>, default: &str) -> Vec<String> {
    match v {
        None => default.split(',').map(str::to_string).collect(),
        Some(Value::Null) => Vec::new(),
        Some(Value::Str(s)) => s.split(',').map(str::to_string).collect(),
        Some(Value::List(l)) => l.iter().map(Value::py_str).collect(),
        Some(other) => vec![other.py_str()],
    }
}

/// A list argument as Python's `list(x)` sees it (a string gives its characters).
fn value_strs(v: Option<&Value>) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::List(l)) => l.iter().map(Value::py_str).collect(),
        Some(Value::Str(s)) => s.chars().map(String::from).collect(),
        Some(Value::Map(m)) => m.keys().map(Value::py_str).collect(),
        Some(other) => vec![other.py_str()],
    }
}

fn opt_arg(c: &StateCall, key: &str) -> Option<String> {
    c.arg(key).filter(|v| !v.is_null()).map(Value::py_str)
}

fn returned(r: Returned) -> Value {
    match r {
        Ok(()) => Value::Bool(true),
        Err(text) => Value::Str(text),
    }
}

fn cachedir(c: &StateCall) -> String {
    c.opts
        .get("cachedir")
        .map(Value::py_str)
        .unwrap_or_else(|| "/var/cache/salt/minion".into())
}

/// File systems Salt unmounts and mounts again instead of remounting.
fn remount_by_umount(fstype: &str) -> bool {
    fstype == "nfs" || fstype == "cvfs" || fstype.starts_with("fuse")
}

/// The option tables of `mount.mounted` with its `extra_*`/`hidden_opts` arguments.
fn option_rules(c: &StateCall) -> OptionRules {
    let mut rules = OptionRules::default();
    rules
        .invisible_options
        .extend(value_strs(c.arg("extra_mount_invisible_options")));
    match c.arg("hidden_opts") {
        None | Some(Value::Null) => {}
        Some(Value::Str(s)) => rules
            .invisible_options
            .extend(s.split(',').map(str::to_string)),
        Some(v) => rules.invisible_options.extend(value_strs(Some(v))),
    }
    rules
        .invisible_keys
        .extend(value_strs(c.arg("extra_mount_invisible_keys")));
    if let Some(Value::Map(m)) = c.arg("extra_mount_ignore_fs_keys") {
        for (k, v) in m {
            let keys = match v {
                Value::List(l) => l.iter().map(Value::py_str).collect(),
                other => vec![other.py_str()],
            };
            rules.ignore_fs_keys.insert(k.py_str(), keys);
        }
    }
    if let Some(Value::Map(m)) = c.arg("extra_mount_translate_options") {
        for (k, v) in m {
            rules.translate.insert(k.py_str(), v.py_str());
        }
    }
    rules
}

/// Salt's unmount-then-mount of nfs/cvfs/fuse targets (a lazy unmount when the first
/// fails). `Err(comment)` when neither unmount worked.
fn umount_and_mount(
    real_name: &str,
    device: &str,
    mkmnt: bool,
    fstype: &str,
    opts: &[String],
    on_lazy: impl FnOnce(),
) -> Result<std::result::Result<Value, String>> {
    if mounts::umount(real_name, None, None, false)?.is_ok() {
        let r = mounts::mount(real_name, Some(device), mkmnt, fstype, Some(opts), None)?;
        return Ok(Ok(returned(r)));
    }
    on_lazy();
    match mounts::umount(real_name, None, None, true)? {
        Ok(()) => {
            let r = mounts::mount(real_name, Some(device), mkmnt, fstype, Some(opts), None)?;
            Ok(Ok(returned(r)))
        }
        Err(e) => Ok(Err(format!("Unable to unmount {real_name}: {e}."))),
    }
}

/// `mount.mounted`.
fn mounted(c: &StateCall) -> Result<Map> {
    let ret_name = c.arg("name").cloned().unwrap_or(Value::Null);
    let mut changes = Map::default();
    let mut result = Value::Bool(true);
    let mut comment = String::new();
    for (key, what) in [("name", "name"), ("device", "device"), ("fstype", "fstype")] {
        if !c.arg(key).is_some_and(Value::is_truthy) {
            return fin(
                &ret_name,
                Map::default(),
                Value::Bool(false),
                format!("Must provide {what} to mount.mounted"),
            );
        }
    }
    let mut name = c.name();
    let device = c.arg("device").map(Value::py_str).unwrap_or_default();
    let fstype = c.arg("fstype").map(Value::py_str).unwrap_or_default();
    let mkmnt_v = c.arg("mkmnt").cloned().unwrap_or(Value::Bool(false));
    let mkmnt = mkmnt_v.is_truthy();
    let mut opts = opts_list(c.arg("opts"), "defaults");
    let dump = c.arg("dump").map_or_else(|| "0".to_string(), Value::py_str);
    let pass_num = c
        .arg("pass_num")
        .map_or_else(|| "0".to_string(), Value::py_str);
    let config = c
        .arg("config")
        .map_or_else(|| DEFAULT_FSTAB.to_string(), Value::py_str);
    let persist = c.flag("persist", true);
    let mount = c.flag("mount", true);
    let user = opt_arg(c, "user");
    let user = user.as_deref();
    let device_name_regex = value_strs(c.arg("device_name_regex"));
    let copy_active_opts = c.flag("bind_mount_copy_active_opts", true);
    let cache_dir = cachedir(c);

    if name != "/" {
        name = name.trim_end_matches('/').to_string();
    }
    let mut active = mounts::active_table()?;
    let real_name = mounts::realpath(&name);
    let comp_real_name = real_name.replace(' ', "\\040");
    let mut device_list: Vec<String> = Vec::new();
    let mut real_device;
    if device.starts_with('/') {
        if opts.iter().any(|o| o == "bind") && active.contains_key(&comp_real_name) {
            let mut source = device.replace(' ', "\\040");
            let target_device = active[&comp_real_name].device.clone();
            let found;
            if target_device.starts_with('/') {
                // Walk up to the mount the bind source lives on.
                real_device = loop {
                    if let Some(src) = active.get(&source).cloned() {
                        copy_bind_opts(&mut opts, &src, copy_active_opts);
                        break src.device;
                    }
                    let parent = mounts::dirname(&source.replace("\\040", " "));
                    if parent == source {
                        // Salt would loop forever here.
                        return Err(Error::CommandExecution(format!(
                            "No mount point found above {device}"
                        )));
                    }
                    source = parent;
                };
                found = true;
            } else {
                // Remote file systems.
                found = match active.get(&source).cloned() {
                    Some(src) => {
                        copy_bind_opts(&mut opts, &src, copy_active_opts);
                        true
                    }
                    None => false,
                };
                real_device = target_device.clone();
            }
            if found {
                if let Some(t) = active.get_mut(&comp_real_name) {
                    t.opts.push("bind".into());
                }
            }
        } else {
            real_device = mounts::realpath(&device);
        }
    } else if device.to_uppercase().starts_with("UUID=") {
        real_device = device
            .split('=')
            .nth(1)
            .unwrap_or("")
            .trim_matches('"')
            .to_lowercase();
    } else if device.to_uppercase().starts_with("LABEL=") {
        let label = device.split('=').nth(1).unwrap_or("");
        let out =
            crate::exec::command::run_as(&shlex_split(&format!("blkid -t LABEL={label}"))?, None)?;
        if out.retcode > 0 {
            return fin(
                &ret_name,
                changes,
                Value::Bool(false),
                format!("Unable to find device with label {label}."),
            );
        }
        // As Salt: the output is walked character by character.
        for ch in py_rstrip(&out.stdout).chars() {
            device_list.push(if ch == ':' {
                String::new()
            } else {
                ch.to_string()
            });
        }
        real_device = device_list
            .first()
            .cloned()
            .ok_or_else(|| Error::CommandExecution("IndexError: list index out of range".into()))?;
    } else {
        real_device = device.clone();
    }
    if let Some(caps) = regex::Regex::new(r"^/dev/([^/]+)/([^/]+)$")
        .ok()
        .and_then(|re| re.captures(&device))
    {
        let mapper = format!(
            "/dev/mapper/{}-{}",
            caps[1].replace('-', "--"),
            caps[2].replace('-', "--")
        );
        if mounts::exists(&mapper) {
            real_device = mapper;
        }
    }
    if let Some(caps) = regex::Regex::new(r"^\w+#(.+)")
        .ok()
        .and_then(|re| re.captures(&device))
    {
        real_device = caps[1].to_string();
    }

    let mut update_mount_cache = false;
    if mount {
        if let Some(entry) = active.get(&comp_real_name).cloned() {
            device_list.push(entry.device.clone());
            let first = device_list[0].clone();
            device_list.push(mounts::realpath(&first));
            if !opts.is_empty() {
                let rules = option_rules(c);
                let mut superopts = entry.superopts.clone();
                let (trigger, last_opt) =
                    mounts::remount_triggers(&opts, &fstype, &entry.opts, &mut superopts, &rules)?;
                if !trigger.is_empty() {
                    let mut sorted = trigger.clone();
                    sorted.sort();
                    let joined = sorted.join(",");
                    if c.test {
                        return fin(
                            &ret_name,
                            changes,
                            Value::Null,
                            format!("Remount would be forced because options ({joined}) changed"),
                        );
                    }
                    if remount_by_umount(&fstype) {
                        changes.insert(
                            "umount".into(),
                            format!("Forced unmount and mount because options ({joined}) changed")
                                .into(),
                        );
                        let lazy_text = format!(
                            "Forced a lazy unmount and mount because the previous unmount failed and because the options ({joined}) changed"
                        );
                        let mut lazy = false;
                        let r =
                            umount_and_mount(&real_name, &device, mkmnt, &fstype, &opts, || {
                                lazy = true
                            })?;
                        if lazy {
                            changes.insert("umount".into(), lazy_text.into());
                        }
                        match r {
                            Ok(v) => result = v,
                            Err(text) => return fin(&ret_name, changes, Value::Bool(false), text),
                        }
                    } else {
                        changes.insert(
                            "umount".into(),
                            format!("Forced remount because options ({joined}) changed").into(),
                        );
                        let r = mounts::remount(
                            &real_name,
                            Some(&device),
                            mkmnt,
                            &fstype,
                            &opts,
                            None,
                        )?;
                        result = returned(r);
                        if let Some(pos) = opts.iter().position(|o| o == "remount") {
                            opts.remove(pos);
                        }
                    }
                    update_mount_cache = true;
                }
                let cached = mounts::read_mount_cache(&cache_dir, &real_name)?;
                if let Some(cached_opts) = cached.get("opts") {
                    let missing: Vec<String> = cached_items(cached_opts)
                        .into_iter()
                        .filter(|o| !matches!(o, Value::Str(s) if opts.contains(s)))
                        .map(|o| o.py_str())
                        .collect();
                    if !missing.is_empty() {
                        if c.test {
                            return fin(
                                &ret_name,
                                changes,
                                Value::Null,
                                format!(
                                    "Remount would be forced because options ({})changed",
                                    missing.join(",")
                                ),
                            );
                        }
                        // Salt names the last wanted option here, not the missing one.
                        let opt = last_opt.clone().unwrap_or_default();
                        if remount_by_umount(&fstype) {
                            changes.insert(
                                "umount".into(),
                                format!("Forced unmount and mount because options ({opt}) changed")
                                    .into(),
                            );
                            match umount_and_mount(
                                &real_name,
                                &device,
                                mkmnt,
                                &fstype,
                                &opts,
                                || {},
                            )? {
                                Ok(v) => result = v,
                                Err(text) => {
                                    return fin(&ret_name, changes, Value::Bool(false), text)
                                }
                            }
                        } else {
                            changes.insert(
                                "umount".into(),
                                format!("Forced remount because options ({opt}) changed").into(),
                            );
                            let r = mounts::remount(
                                &real_name,
                                Some(&device),
                                mkmnt,
                                &fstype,
                                &opts,
                                None,
                            )?;
                            result = returned(r);
                            if let Some(pos) = opts.iter().position(|o| o == "remount") {
                                opts.remove(pos);
                            }
                        }
                        update_mount_cache = true;
                    }
                } else {
                    update_mount_cache = true;
                }
            }
            if !device_list.contains(&real_device) {
                // The rest of Salt's device list (`mount -l`, `blkid`), fetched only when
                // the first two columns do not already settle the comparison.
                let mount_l = mounts::list_mounts()?;
                let blk = if entry.extended {
                    mounts::blkid()?
                } else {
                    Default::default()
                };
                let (alt, uuid, label) =
                    mounts::extra_columns(&comp_real_name, &entry, &mount_l, &blk);
                for extra in [alt, uuid, label].into_iter().flatten() {
                    if !extra.is_empty() && !device_list.contains(&extra) {
                        device_list.push(extra);
                    }
                }
            }
            if !device_list.contains(&real_device) {
                let mut ignored: Option<String> = None;
                for pattern in &device_name_regex {
                    let re = regex::Regex::new(&format!("^(?:{pattern})")).map_err(|e| {
                        Error::CommandExecution(format!("bad device_name_regex {pattern}: {e}"))
                    })?;
                    if let Some(d) = device_list.iter().find(|d| re.is_match(d)) {
                        ignored = Some(d.clone());
                    }
                }
                if let Some(d) = ignored.filter(|d| !d.is_empty()) {
                    result = Value::Bool(true);
                    comment = format!(
                        "An umount will not be forced because device matched device_name_regex: {d}"
                    );
                } else if c.test {
                    result = Value::Null;
                    comment = format!(
                        "An umount would have been forced because devices do not match.  Watched: {device}"
                    );
                } else {
                    let mut text =
                        format!("Forced unmount because devices don't match. Wanted: {device}");
                    if real_device != device {
                        text.push_str(&format!(" ({real_device})"));
                    }
                    text.push_str(&format!(", current: {}", device_list.join(", ")));
                    changes.insert("umount".into(), text.into());
                    let _ = mounts::umount(&real_name, None, user, false)?;
                    active = mounts::active_table()?;
                    if active.contains_key(&comp_real_name) {
                        return fin(&ret_name, changes, Value::Bool(false), "Unable to unmount");
                    }
                    update_mount_cache = true;
                }
            } else {
                comment = "Target was already mounted".into();
            }
        }
    }

    if !active.contains_key(&comp_real_name) {
        if mount {
            if c.test {
                let text = if mounts::exists(&name) {
                    format!("{name} would be mounted")
                } else if mkmnt {
                    format!("{name} would be created and mounted")
                } else {
                    format!("{name} does not exist and would not be created")
                };
                return fin(&ret_name, changes, Value::Null, text);
            }
            if !mounts::exists(&name) && !mkmnt {
                return fin(
                    &ret_name,
                    changes,
                    Value::Bool(false),
                    "Mount directory is not present",
                );
            }
            let out = mounts::mount(&name, Some(&device), mkmnt, &fstype, Some(&opts), user)?;
            active = mounts::active_table()?;
            update_mount_cache = true;
            match out {
                Err(text) => return fin(&ret_name, changes, Value::Bool(false), text),
                Ok(()) if active.contains_key(&comp_real_name) => {
                    comment = "Target was successfully mounted".into();
                    changes.insert("mount".into(), Value::Bool(true));
                }
                Ok(()) => {}
            }
        } else if !mounts::exists(&name) {
            if c.test {
                result = Value::Null;
                comment = if mkmnt {
                    format!("{name} would be created, but not mounted")
                } else {
                    format!("{name} does not exist and would neither be created nor mounted")
                };
            } else if mkmnt {
                mounts::mkdir(&name, user)?;
                comment = format!("{name} was created, not mounted");
            } else {
                comment = format!("{name} not present and not mounted");
            }
        } else if c.test {
            comment = format!("{name} would not be mounted");
        } else {
            comment = format!("{name} not mounted");
        }
    }

    if persist {
        let match_on = MatchOn::from_value(c.arg("match_on"))?;
        let joined = opts.join(",");
        let out = mounts::set_fstab(&SetFstab {
            name: &name,
            device: &device,
            fstype: &fstype,
            opts: &joined,
            dump: &dump,
            pass_num: &pass_num,
            config: &config,
            test: c.test,
            match_on: &match_on,
            not_change: false,
        })?;
        if c.test && out != FstabStatus::Present {
            let text = match (out, mount) {
                (FstabStatus::New, true) => format!(
                    "{name} is mounted, but needs to be written to the fstab in order to be made persistent."
                ),
                (FstabStatus::New, false) => format!(
                    "{name} needs to be written to the fstab in order to be made persistent."
                ),
                (_, true) => format!("{name} is mounted, but its fstab entry must be updated."),
                (_, false) => format!("The {name} fstab entry must be updated."),
            };
            return fin(
                &ret_name,
                changes,
                Value::Null,
                format!("{comment}. {text}"),
            );
        }
        if update_mount_cache {
            mounts::write_mount_cache(
                &cache_dir,
                &real_name,
                Value::Str(device.clone()),
                mkmnt_v,
                Value::Str(fstype.clone()),
                Value::List(opts.iter().map(|o| Value::Str(o.clone())).collect()),
            )?;
        }
        match out {
            FstabStatus::Present => comment.push_str(". Entry already exists in the fstab."),
            FstabStatus::New => {
                changes.insert("persist".into(), "new".into());
                comment.push_str(". Added new entry to the fstab.");
            }
            FstabStatus::Change => {
                changes.insert("persist".into(), "update".into());
                comment.push_str(". Updated the entry in the fstab.");
            }
        }
    }
    fin(&ret_name, changes, result, comment)
}

/// With `bind_mount_copy_active_opts`, the wanted options of a bind mount become the
/// sorted union of themselves and the source mount's options and super options.
fn copy_bind_opts(opts: &mut Vec<String>, src: &mounts::ActiveMount, copy: bool) {
    if copy {
        let mut all: Vec<String> = opts
            .iter()
            .chain(&src.opts)
            .chain(&src.superopts)
            .cloned()
            .collect();
        all.sort();
        all.dedup();
        *opts = all;
    }
}

/// The items of a cached `opts` value as Python iterates it.
fn cached_items(v: &Value) -> Vec<Value> {
    match v {
        Value::List(l) => l.clone(),
        Value::Str(s) => s.chars().map(|c| Value::Str(c.to_string())).collect(),
        Value::Map(m) => m.keys().cloned().collect(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// `mount.unmounted`.
fn unmounted(c: &StateCall) -> Result<Map> {
    let ret_name = c.arg("name").cloned().unwrap_or(Value::Null);
    let mut changes = Map::default();
    let mut result = Value::Bool(true);
    if !c.arg("name").is_some_and(Value::is_truthy) {
        return fin(
            &ret_name,
            changes,
            Value::Bool(false),
            "Must provide name to mount.unmounted",
        );
    }
    let name = c.name();
    let device_v = c.arg("device").filter(|v| !v.is_null());
    let device = device_v.filter(|v| v.is_truthy()).map(Value::py_str);
    let config = c
        .arg("config")
        .map_or_else(|| DEFAULT_FSTAB.to_string(), Value::py_str);
    let persist = c.flag("persist", false);
    let user = opt_arg(c, "user");
    let active = mounts::active_table()?;
    let comp_name = name.replace(' ', "\\040");
    let mut comment: String;
    let mut update_mount_cache = false;
    if !active.contains_key(&comp_name) {
        comment = "Target was already unmounted".into();
    } else {
        if c.test {
            return fin(
                &ret_name,
                changes,
                Value::Null,
                format!("Mount point {name} is mounted but should not be"),
            );
        }
        let out = mounts::umount(&name, device.as_deref(), user.as_deref(), false)?;
        update_mount_cache = true;
        match out {
            Err(text) => {
                comment = text;
                result = Value::Bool(false);
            }
            Ok(()) => {
                comment = "Target was successfully unmounted".into();
                changes.insert("umount".into(), Value::Bool(true));
            }
        }
    }
    if update_mount_cache {
        mounts::delete_mount_cache(&cachedir(c), &name)?;
    }
    if persist {
        let tab = mounts::fstab(&config)?;
        match tab.get(&name) {
            None => comment.push_str(". fstab entry not found"),
            Some(rec) => {
                if let Some(dev) = device_v.filter(|v| v.is_truthy()) {
                    if dev.as_str() != Some(rec.device.as_str()) {
                        comment.push_str(&format!(
                            ". fstab entry for device {} not found",
                            dev.py_str()
                        ));
                        return fin(&ret_name, changes, result, comment);
                    }
                }
                if c.test {
                    return fin(
                        &ret_name,
                        changes,
                        Value::Null,
                        format!(
                            "Mount point {name} is unmounted but needs to be purged from {config} to be made persistent"
                        ),
                    );
                }
                let dev = device_v.map(Value::py_str);
                mounts::rm_fstab(&name, dev.as_deref(), &config)?;
                comment.push_str(". Removed target from fstab");
                changes.insert("persist".into(), "purged".into());
            }
        }
    }
    fin(&ret_name, changes, result, comment)
}

/// `mount.swap`.
fn swap(c: &StateCall) -> Result<Map> {
    let ret_name = c.arg("name").cloned().unwrap_or(Value::Null);
    let name = c.name();
    let persist = c.flag("persist", true);
    let config = c
        .arg("config")
        .map_or_else(|| DEFAULT_FSTAB.to_string(), Value::py_str);
    let mut changes = Map::default();
    let mut result = Value::Bool(true);
    let mut on = mounts::swaps()?;
    let is_link = std::fs::symlink_metadata(&name).is_ok_and(|m| m.file_type().is_symlink());
    let real = if is_link {
        let target = std::fs::read_link(&name)
            .map_err(|e| Error::io(name.clone(), &e))?
            .to_string_lossy()
            .into_owned();
        if target.starts_with('/') {
            target
        } else {
            format!("/dev/{}", mounts::basename(&target))
        }
    } else {
        name.clone()
    };
    let mut comment_text = if on.contains_key(&real) {
        format!("Swap {name} already active")
    } else if c.test {
        result = Value::Null;
        format!("Swap {name} is set to be activated")
    } else {
        mounts::swapon(&real, None)?;
        on = mounts::swaps()?;
        match on.get(&real) {
            Some(stats) => {
                changes = stats.to_map();
                format!("Swap {name} activated")
            }
            None => {
                result = Value::Bool(false);
                format!("Swap {name} failed to activate")
            }
        }
    };
    if persist {
        let tab = mounts::fstab(&config)?;
        if c.test {
            if !tab.contains_key(&name) && !tab.values().any(|r| r.device == name) {
                result = Value::Null;
                if on.contains_key(&name) {
                    comment_text =
                        format!("Swap {name} is set to be added to the fstab and to be activated");
                }
            }
            return fin(&ret_name, changes, result, comment_text);
        }
        if let Some(rec) = tab.get("none") {
            if rec.device == name && rec.fstype != "swap" {
                return fin(&ret_name, changes, result, comment_text);
            }
        }
        let out = mounts::set_fstab(&SetFstab {
            name: "none",
            device: &name,
            fstype: "swap",
            opts: "defaults",
            dump: "0",
            pass_num: "0",
            config: &config,
            test: false,
            match_on: &MatchOn::Auto,
            not_change: false,
        })?;
        match out {
            FstabStatus::Present => {}
            FstabStatus::New => {
                changes.insert("persist".into(), "new".into());
                comment_text.push_str(". Added new entry to the fstab.");
            }
            FstabStatus::Change => {
                changes.insert("persist".into(), "update".into());
                comment_text.push_str(". Updated the entry in the fstab.");
            }
        }
    }
    fin(&ret_name, changes, result, comment_text)
}

/// `mod_watch` of `mount.mounted`: remount with the state's `device`, `fstype` and `opts`
/// (missing ones are Salt's `KeyError`). Any error text counts as remounted, as in Salt.
fn mod_watch(c: &StateCall) -> Result<Map> {
    let ret_name = c.arg("name").cloned().unwrap_or(Value::Null);
    let name = c.name();
    let sfun = c.str_arg("sfun").unwrap_or("");
    if sfun != "mounted" {
        return fin(
            &ret_name,
            Map::default(),
            Value::Bool(true),
            format!("Watch not supported in {sfun} at this time"),
        );
    }
    let need = |k: &str| {
        c.arg(k)
            .ok_or_else(|| Error::CommandExecution(format!("KeyError: '{k}'")))
    };
    let device = need("device")?;
    let fstype = need("fstype")?.py_str();
    let opts = opts_list(Some(need("opts")?), "defaults");
    let user = opt_arg(c, "user");
    let device = (!device.is_null()).then(|| device.py_str());
    let out = mounts::remount(
        &name,
        device.as_deref(),
        false,
        &fstype,
        &opts,
        user.as_deref(),
    )?;
    match out {
        Ok(()) => fin(
            &ret_name,
            Map::default(),
            Value::Bool(true),
            format!("{name} remounted"),
        ),
        Err(text) if !text.is_empty() => fin(
            &ret_name,
            Map::default(),
            Value::Bool(true),
            format!("{name} remounted"),
        ),
        Err(text) => fin(
            &ret_name,
            Map::default(),
            Value::Bool(false),
            format!("{name} failed to remount: {text}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_arguments() {
        assert_eq!(opts_list(None, "defaults"), vec!["defaults"]);
        assert_eq!(
            opts_list(Some(&Value::from("noatime,nodev")), "defaults"),
            vec!["noatime", "nodev"]
        );
        assert_eq!(
            opts_list(Some(&Value::List(vec!["a".into(), Value::Int(1)])), "x"),
            vec!["a", "1"]
        );
        assert_eq!(value_strs(Some(&Value::from("ab"))), vec!["a", "b"]);
        assert!(remount_by_umount("fuse.sshfs"));
        assert!(!remount_by_umount("ext4"));
        assert_eq!(
            cached_items(&Value::from("ab")),
            vec![Value::from("a"), Value::from("b")]
        );
    }
}
