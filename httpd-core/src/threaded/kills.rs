//! worker/event `server_main_loop`: a child killed by a signal is replaced at once, without
//! waiting for the next maintenance second, but only twice in a row: from the third successive
//! kill the fast path stops until a quiet turn, and AH10393 (worker) / AH10392 (event)
//! "children are killed successively!" is logged at the 3rd, 13th, 23rd… kill
//! (apache-mpm-rules.md §1.6, rule 57). Something killing children in a loop must not turn the
//! parent into a fork bomb.

/// What to do about one child that a signal killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KillVerdict {
    /// Fork its replacement now.
    pub replace_now: bool,
    /// Log "children are killed successively!".
    pub warn: bool,
}

/// The parent's count of children killed by signals since its last quiet turn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SuccessiveKills(u32);

impl SuccessiveKills {
    /// A child of ours was killed by a signal.
    pub fn killed(&mut self) -> KillVerdict {
        self.0 += 1;
        KillVerdict {
            replace_now: self.0 < 3,
            warn: self.0 >= 3 && self.0 % 10 == 3,
        }
    }

    /// A turn reaped nothing: the streak is over.
    pub fn quiet(&mut self) {
        self.0 = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_57_two_fast_replacements_then_warnings_at_3_13_23() {
        let mut k = SuccessiveKills::default();
        let v: Vec<KillVerdict> = (0..23).map(|_| k.killed()).collect();
        assert!(v[0].replace_now && v[1].replace_now && !v[2].replace_now);
        let warned: Vec<usize> = v
            .iter()
            .enumerate()
            .filter(|(_, v)| v.warn)
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(warned, [3, 13, 23]);
        k.quiet();
        assert!(k.killed().replace_now, "a quiet turn resets the streak");
    }
}
