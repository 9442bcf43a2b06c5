//! Running as an unprivileged user (issue 19). Started as root, `postamt
//! serve` binds its ports (below 1024 needs root), then becomes the
//! `[server] user` for good, before it opens the store or any other file
//! in the data directory, so that everything it makes there is that
//! user's and a flaw in a parser reaches one user's files, not the
//! machine. Started as another user (a trial, or systemd's
//! `User=postamt` with `AmbientCapabilities=CAP_NET_BIND_SERVICE`) there
//! is nothing to drop.
//!
//! The system calls go through `nix`, so there is no unsafe code here.
//! glibc's setgid/setuid change every thread of the process (the async
//! runtime's threads exist by now), not only the calling one.

use std::ffi::CString;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::Path;

use anyhow::{Context, bail};
use nix::unistd::{Gid, Group, Uid, User};

use crate::server_settings::ServerSettings;

/// Becomes the configured user if started as root; refuses to go on as
/// root unless `allow_root` says so. Call after binding the listeners
/// and before opening anything in `data_dir`, which is created (0700) for
/// that user if missing.
pub fn drop_root(settings: &ServerSettings, data_dir: &Path) -> anyhow::Result<()> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    let Some(name) = settings.user.as_deref() else {
        if settings.allow_root {
            tracing::warn!("running as root ([server] allow_root = true)");
            return Ok(());
        }
        bail!(
            "postamt serve refuses to run as root: set `user = \"postamt\"` (an unprivileged user it becomes \
             after binding its ports) in the [server] section of the config, or `allow_root = true` there \
             to run as root anyway"
        );
    };
    let (user, gid) = look_up(name, settings.group.as_deref(), data_dir)?;
    prepare_data_dir(data_dir, &user, gid)?;
    become_user(&user, gid)?;
    tracing::info!(
        user = name,
        uid = user.uid.as_raw(),
        gid = gid.as_raw(),
        "running as {name}"
    );
    Ok(())
}

/// The `[server]` user and the group it runs with.
fn look_up(name: &str, group: Option<&str>, data_dir: &Path) -> anyhow::Result<(User, Gid)> {
    let user = User::from_name(name)
        .with_context(|| format!("cannot look up the [server] user {name:?}"))?
        .with_context(|| {
            format!(
                "the [server] user {name:?} does not exist: create it (`useradd --system --home-dir {} {name}`) \
                 or name another",
                data_dir.display()
            )
        })?;
    let gid = match group {
        None => user.gid,
        Some(group) => {
            Group::from_name(group)
                .with_context(|| format!("cannot look up the [server] group {group:?}"))?
                .with_context(|| format!("the [server] group {group:?} does not exist"))?
                .gid
        }
    };
    Ok((user, gid))
}

/// Makes the data directory the user's if it is new; refuses one that
/// belongs to someone else, saying what to run.
fn prepare_data_dir(dir: &Path, user: &User, gid: Gid) -> anyhow::Result<()> {
    match std::fs::metadata(dir) {
        Ok(metadata) if metadata.uid() == user.uid.as_raw() => Ok(()),
        Ok(metadata) => bail!(
            "the data directory {dir} belongs to uid {owner}, not to {name} (uid {uid}), the [server] user \
             postamt runs as: give it to that user (`chown -R {name}: {dir}`) or point `data_dir` elsewhere",
            dir = dir.display(),
            owner = metadata.uid(),
            name = user.name,
            uid = user.uid,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Parents as any directory (others must pass through them);
            // the data directory itself private to the user.
            if let Some(parent) = dir.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(dir)
                .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
            std::os::unix::fs::chown(dir, Some(user.uid.as_raw()), Some(gid.as_raw()))
                .with_context(|| format!("cannot give the data directory {} to {}", dir.display(), user.name))
        }
        Err(e) => Err(e).with_context(|| format!("cannot read the data directory {}", dir.display())),
    }
}

/// setgroups (the user's groups), setgid, setuid, in that order: after
/// setuid the groups could no longer be changed. Then checks that root
/// cannot be had back.
fn become_user(user: &User, gid: Gid) -> anyhow::Result<()> {
    let name = CString::new(user.name.as_str()).context("a user name with a NUL byte")?;
    nix::unistd::initgroups(&name, gid).context("cannot set the [server] user's groups")?;
    nix::unistd::setgid(gid).context("cannot change to the [server] group")?;
    nix::unistd::setuid(user.uid).context("cannot change to the [server] user")?;
    let uids = nix::unistd::getresuid().context("getresuid")?;
    let gids = nix::unistd::getresgid().context("getresgid")?;
    let all_user = [uids.real, uids.effective, uids.saved].iter().all(|&u| u == user.uid);
    let all_group = [gids.real, gids.effective, gids.saved].iter().all(|&g| g == gid);
    if !all_user || !all_group || nix::unistd::setuid(Uid::from_raw(0)).is_ok() {
        bail!("changed to {} but root could still be regained; stopping", user.name);
    }
    Ok(())
}
