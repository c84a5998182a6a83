//! Child-process turnover during a run: which pids the sampler saw, when each appeared and
//! when it went away. The timeline's process count stays flat when children are recycled
//! (MaxConnectionsPerChild: one exits, the parent forks a replacement in the next maintenance
//! pass), so lab 06 needs the pids themselves. Taken from `/proc` beside each status poll, as
//! the reference `timeline.py` takes its `os_*` columns; a run against a URL without `--pid`
//! has none. Apache has no counterpart: it logs nothing when a child leaves after
//! MaxConnectionsPerChild.

use std::collections::BTreeMap;

use crate::i18n::Lang;
use crate::summary::PhaseSpan;

/// First and last sample time of every child pid seen.
#[derive(Debug, Default, Clone)]
pub struct Turnover {
    seen: BTreeMap<i32, (f64, f64)>,
    first: Vec<i32>,
    last: Vec<i32>,
    samples: usize,
}

impl Turnover {
    /// Record the children alive at sample time `t`.
    pub fn observe(&mut self, t: f64, children: &[i32]) {
        if self.samples == 0 {
            self.first = children.to_vec();
        }
        self.samples += 1;
        self.last = children.to_vec();
        for &p in children {
            self.seen.entry(p).and_modify(|e| e.1 = t).or_insert((t, t));
        }
    }

    /// Children forked and children gone with their time: a pid alive at the first sample was
    /// not forked during the run, one alive at the last sample has not gone.
    fn events(&self) -> (Vec<f64>, Vec<f64>) {
        let forks = self
            .seen
            .iter()
            .filter(|(p, _)| !self.first.contains(p))
            .map(|(_, &(t, _))| t)
            .collect();
        let exits = self
            .seen
            .iter()
            .filter(|(p, _)| !self.last.contains(p))
            .map(|(_, &(_, t))| t)
            .collect();
        (forks, exits)
    }

    /// The lines `summary.txt` gains (English): totals, then forks and exits per load phase.
    pub fn summary(&self, spans: &[PhaseSpan]) -> String {
        self.summary_lang(spans, Lang::En)
    }

    /// [`Turnover::summary`] in `lang` (the run summary a student reads on the terminal).
    pub fn summary_lang(&self, spans: &[PhaseSpan], lang: Lang) -> String {
        if self.samples == 0 {
            return String::new();
        }
        let (forks, exits) = self.events();
        let (seen, first, last, forks_n, exits_n) = (
            self.seen.len(),
            self.first.len(),
            self.last.len(),
            forks.len(),
            exits.len(),
        );
        let mut s = match lang {
            Lang::Es => format!(
                "\npid de procesos hijo (de /proc en cada consulta): {seen} vistos; {first} vivos en la primera consulta, {last} en la última; {forks_n} creados y {exits_n} desaparecidos durante la ejecución\n"
            ),
            Lang::En => format!(
                "\nchild pids (from /proc at each poll): {seen} seen; {first} alive at the first poll, {last} at the last; {forks_n} forked and {exits_n} gone during the run\n"
            ),
        };
        let count = |v: &[f64], t0: f64, t1: f64| v.iter().filter(|&&t| t >= t0 && t < t1).count();
        let line = |what: String, f: usize, e: usize| match lang {
            Lang::Es => format!("  {what}: {f} creados, {e} desaparecidos\n"),
            Lang::En => format!("  {what}: {f} forked, {e} gone\n"),
        };
        for sp in spans {
            let what = match lang {
                Lang::Es => format!(
                    "fase {} (objetivo {}, t={:.1}..{:.1})",
                    sp.phase, sp.target, sp.t0, sp.t1
                ),
                Lang::En => format!(
                    "phase {} (target {}, t={:.1}..{:.1})",
                    sp.phase, sp.target, sp.t0, sp.t1
                ),
            };
            s.push_str(&line(
                what,
                count(&forks, sp.t0, sp.t1),
                count(&exits, sp.t0, sp.t1),
            ));
        }
        if let Some(end) = spans.last().map(|sp| sp.t1) {
            let what = match lang {
                Lang::Es => format!("tras las fases (t={end:.1}..)"),
                Lang::En => format!("after the phases (t={end:.1}..)"),
            };
            s.push_str(&line(
                what,
                count(&forks, end, f64::INFINITY),
                count(&exits, end, f64::INFINITY),
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recycled_child_counts_once_as_gone_and_its_replacement_once_as_forked() {
        let mut t = Turnover::default();
        t.observe(0.0, &[10, 11]);
        t.observe(1.0, &[10, 11]);
        t.observe(2.0, &[11, 12]);
        t.observe(3.0, &[12, 13]);
        let span = PhaseSpan {
            phase: 0,
            target: 5,
            t0: 0.0,
            t1: 10.0,
            held: None,
        };
        let s = t.summary(&[span]);
        assert!(
            s.contains("4 seen; 2 alive at the first poll, 2 at the last; 2 forked and 2 gone"),
            "{s}"
        );
        assert!(
            s.contains("phase 0 (target 5, t=0.0..10.0): 2 forked, 2 gone"),
            "{s}"
        );
        assert!(
            s.contains("after the phases (t=10.0..): 0 forked, 0 gone"),
            "{s}"
        );
        assert_eq!(Turnover::default().summary(&[]), "");
        let es = t.summary_lang(&[span], Lang::Es);
        assert!(
            es.contains("fase 0 (objetivo 5, t=0.0..10.0): 2 creados, 2 desaparecidos"),
            "{es}"
        );
    }
}
