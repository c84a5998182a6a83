//! Dropping root in children.
//!
//! Source: `modules/arch/unix/mod_unixd.c: unixd_drop_privileges`; apache-mpm-rules.md §6.7,
//! rule 55.
//!
//! 1. The parent resolves `User` and `Group` to numbers *before* forking ([`Identity::resolve`]),
//!    and the user's supplementary groups too (`getgrouplist`): name lookups go through NSS,
//!    which may take locks a forked child must not touch, and which loads its modules (libnss_*,
//!    their libraries, their caches) into whichever process calls it. Done once in the parent,
//!    that memory is shared by every child instead of being copied into each.
//! 2. Each child, after inheriting the listeners and the scoreboard and before serving anything,
//!    calls [`Identity::drop_privileges`]: `setgid`, then `setgroups` (Apache's `initgroups`,
//!    with the list the parent looked up), then `setuid`. The order matters: once the uid is no
//!    longer 0 the process may not change its groups.
//! 3. Only a process whose effective uid is 0 changes anything; a server started by a student
//!    as themselves simply runs as themselves.
//! 4. Any failure is fatal for the child (exit 15, APEXIT_CHILDFATAL), which stops the whole
//!    server (rule 56): better no server than one serving as root.
use std::ffi::CString;
use std::fmt;

use nix::unistd::{Gid, Group, Uid, User, geteuid, getgrouplist, setgid, setgroups, setuid};

/// Why a User/Group cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivError {
    /// `User` names no account on this machine.
    UnknownUser(String),
    /// `Group` names no group on this machine.
    UnknownGroup(String),
    /// `#-1`, Apache's compiled-in default, would leave a child as root or fail obscurely.
    DefaultIdentity,
    /// A system call failed in the child (the message carries Apache's AH code).
    Syscall(String),
}

impl fmt::Display for PrivError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrivError::UnknownUser(u) => write!(f, "AH00543: bad user name {u}"),
            PrivError::UnknownGroup(g) => write!(f, "AH00544: bad group name {g}"),
            PrivError::DefaultIdentity => f.write_str(
                "children would run with the compiled-in default identity #-1: set `User` and `Group` \
                 (for example User nobody, Group nogroup) when starting as root",
            ),
            PrivError::Syscall(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for PrivError {}

/// Who children become.
#[derive(Debug, Clone)]
pub struct Identity {
    uid: Uid,
    gid: Gid,
    user_name: CString,
    /// `getgrouplist(User, Group)`, looked up in the parent; `setgroups` in the child.
    groups: Vec<Gid>,
    /// False when the parent is not root: nothing to drop.
    active: bool,
}

fn parse_id(s: &str) -> Option<i64> {
    s.strip_prefix('#').and_then(|n| n.parse().ok())
}

impl Identity {
    /// Step 1, in the parent: resolve `User`/`Group` (names or `#number`).
    pub fn resolve(user: &str, group: &str) -> Result<Identity, PrivError> {
        let root = geteuid().is_root();
        if !root {
            let uid = geteuid();
            let name = User::from_uid(uid)
                .ok()
                .flatten()
                .map(|u| u.name)
                .unwrap_or_default();
            return Ok(Identity {
                uid,
                gid: nix::unistd::getegid(),
                user_name: CString::new(name).unwrap_or_default(),
                groups: Vec::new(),
                active: false,
            });
        }
        if parse_id(user) == Some(-1) || parse_id(group) == Some(-1) {
            return Err(PrivError::DefaultIdentity);
        }
        let (uid, user_name) = match parse_id(user) {
            Some(n) => {
                let uid = Uid::from_raw(n as u32);
                let name = User::from_uid(uid)
                    .ok()
                    .flatten()
                    .map(|u| u.name)
                    .unwrap_or_else(|| user.to_string());
                (uid, name)
            }
            None => match User::from_name(user) {
                Ok(Some(u)) => (u.uid, u.name),
                _ => return Err(PrivError::UnknownUser(user.to_string())),
            },
        };
        let gid = match parse_id(group) {
            Some(n) => Gid::from_raw(n as u32),
            None => match Group::from_name(group) {
                Ok(Some(g)) => g.gid,
                _ => return Err(PrivError::UnknownGroup(group.to_string())),
            },
        };
        let user_name =
            CString::new(user_name).map_err(|_| PrivError::UnknownUser(user.to_string()))?;
        // A numeric User with no account has no supplementary groups: only Group.
        let groups = getgrouplist(&user_name, gid).unwrap_or_else(|_| vec![gid]);
        Ok(Identity {
            uid,
            gid,
            user_name,
            groups,
            active: true,
        })
    }

    /// The uid children run as.
    pub fn uid(&self) -> u32 {
        self.uid.as_raw()
    }
    /// The gid children run as.
    pub fn gid(&self) -> u32 {
        self.gid.as_raw()
    }

    /// Step 2, in the child: become User/Group. A no-op unless the process is root (step 3).
    pub fn drop_privileges(&self) -> Result<(), PrivError> {
        if !self.active || !geteuid().is_root() {
            return Ok(());
        }
        let err = |code: &str, what: String, e: nix::Error| {
            PrivError::Syscall(format!("({}){}: {code}: {what}", e as i32, e.desc()))
        };
        setgid(self.gid).map_err(|e| {
            err(
                "AH02156",
                format!("setgid: unable to set group id to Group {}", self.gid),
                e,
            )
        })?;
        setgroups(&self.groups).map_err(|e| {
            err(
                "AH02157",
                format!(
                    "initgroups: unable to set groups for User {} and Group {}",
                    self.user_name.to_string_lossy(),
                    self.gid
                ),
                e,
            )
        })?;
        setuid(self.uid).map_err(|e| {
            err(
                "AH02162",
                format!("setuid: unable to change to uid: {}", self.uid),
                e,
            )
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_and_named_ids_resolve() {
        if !geteuid().is_root() {
            // As a normal user there is nothing to resolve: children stay who they are.
            let id = Identity::resolve("nobody", "nogroup").unwrap();
            assert_eq!(id.uid(), geteuid().as_raw());
            return;
        }
        let id = Identity::resolve("#65534", "#65534").unwrap();
        assert_eq!((id.uid(), id.gid()), (65534, 65534));
        assert!(Identity::resolve("no-such-user-mpm-lab", "nogroup").is_err());
        assert_eq!(
            Identity::resolve("#-1", "#-1").unwrap_err(),
            PrivError::DefaultIdentity
        );
    }
}
