//! The differential judge (`mpm-lab diff`): real Apache (Debian's `apache2`, through
//! `tools/apache-shim.sh`) and one of our servers, started by the same [`ServerTest`] on the
//! same fixture config and the same site, each request sent to both on fresh connections, the
//! answers compared after [`observe`] has reduced them to what must match.
//!
//! Steps of a run:
//! 1. Start both servers with the same MPM (the shim loads Apache's `mod_mpm_<name>.so`).
//! 2. Inputs: the external corpora given on the command line ([`corpus`]), then `count`
//!    generated requests ([`generate`], seeded).
//! 3. Each input goes to both servers at once, each on its own new connection.
//! 4. A disagreement is run again; one that does not repeat is counted as flaky and dropped.
//! 5. The first disagreement of each kind (the same observation keys differ, the same first
//!    statuses) is shrunk ([`shrink`]) to a minimal request that still disagrees that way.
//! 6. The shrunk requests are written in the regression file's format ([`regressions`]) with
//!    Apache's answer, and ours in comments, for a person to fix or to list as a deviation.
//!
//! | module | what |
//! |---|---|
//! | [`observe`] | one request on a fresh connection → [`Observation`] lines |
//! | [`generate`] | the seeded request generator |
//! | [`corpus`] | llhttp and h11 test inputs read as data |
//! | [`shrink`] | greedy shrinking of a disagreement |
//! | [`regressions`] | the regression file and its replay |
//! | [`soak`] | `mpm-lab fuzz-server`: mutated requests against one of our servers, then panics, held connections, fd/RSS growth |
//! | [`wire`] | request escaping, FNV-1a |

pub mod corpus;
pub mod generate;
pub mod observe;
pub mod regressions;
pub mod shrink;
pub mod soak;
pub mod wire;

use std::collections::BTreeSet;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

pub use observe::{Fate, Observation, Patience};
pub use regressions::Regression;

use crate::{Mpm, Server, ServerTest};

/// The shim that runs Apache under the harness, relative to the conformance crate.
pub const APACHE_SHIM: &str = "tools/apache-shim.sh";

/// The regression file, relative to the conformance crate.
pub const REGRESSIONS: &str = "differential/regressions.txt";

/// The site both servers serve: the fixture's files plus a directory with an index and one
/// without.
pub fn with_site(t: ServerTest) -> ServerTest {
    t.file("sub/index.html", "sub index\n")
        .file("empty/.keep", "")
}

/// Our server and Apache, same MPM, same config, same site.
pub struct Pair {
    pub ours: Server,
    pub apache: Server,
}

/// Step 1, Apache's half: Debian's apache2 with `mpm`, on the default fixture and site.
pub fn start_apache(mpm: Mpm) -> Result<Server, String> {
    if !std::path::Path::new("/usr/sbin/apache2").exists() {
        return Err("apache2 is not installed (apt-get install apache2)".into());
    }
    with_site(ServerTest::new(mpm))
        .binary(crate::crate_dir().join(APACHE_SHIM))
        .try_start()
        .map_err(|e| format!("apache {}: {e}", mpm.name()))
}

/// Both answers to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub apache: Observation,
    pub ours: Observation,
}

impl Verdict {
    pub fn agrees(&self) -> bool {
        self.apache == self.ours
    }

    /// What kind of disagreement: the keys of the lines that differ, and both first statuses.
    pub fn kind(&self) -> String {
        let a: BTreeSet<&String> = self.apache.lines.iter().collect();
        let o: BTreeSet<&String> = self.ours.lines.iter().collect();
        let keys: BTreeSet<&str> = a.symmetric_difference(&o).map(|l| shrink::key(l)).collect();
        format!(
            "{} vs {}: {}",
            self.apache.first_status(),
            self.ours.first_status(),
            keys.into_iter().collect::<Vec<_>>().join(" ")
        )
    }
}

/// Step 3: one request to both, at the same time.
pub fn judge(apache: SocketAddr, ours: SocketAddr, req: &[u8], p: Patience) -> io::Result<Verdict> {
    std::thread::scope(|s| {
        let a = s.spawn(|| observe::observe(apache, req, p));
        let o = observe::observe(ours, req, p);
        let a = a
            .join()
            .map_err(|_| io::Error::other("observer panicked"))?;
        Ok(Verdict {
            apache: a?,
            ours: o?,
        })
    })
}

/// What `mpm-lab diff` does.
#[derive(Debug, Clone)]
pub struct Options {
    pub mpm: Mpm,
    pub seed: u64,
    pub count: usize,
    pub corpora: Vec<PathBuf>,
    pub shrink_budget: usize,
    pub patience: Patience,
}

/// One kind of disagreement, shrunk.
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: String,
    pub origin: String,
    pub original: Vec<u8>,
    pub shrunk: Vec<u8>,
    pub verdict: Verdict,
    /// How many inputs showed this kind.
    pub seen: usize,
}

/// The figures of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub tried: usize,
    pub disagreements: usize,
    pub flaky: usize,
    pub findings: Vec<Finding>,
}

impl Report {
    /// The findings in the regression file's format, ours in comments.
    pub fn regression_text(&self, mpm: Mpm) -> String {
        let mut s = format!(
            "# mpm-lab diff --mpm {}: {} requests, {} disagreements ({} flaky, dropped), {} kinds\n",
            mpm.name(),
            self.tried,
            self.disagreements,
            self.flaky,
            self.findings.len()
        );
        for f in &self.findings {
            s.push_str(&format!("\n# kind: {} (seen {} times)\n", f.kind, f.seen));
            s.push_str(&format!("# original: {}\n", wire::escape(&f.original)));
            for l in &f.verdict.ours.lines {
                s.push_str(&format!("# ours: {l}\n"));
            }
            s.push_str(&regressions::format(&Regression {
                name: f.origin.clone(),
                request: f.shrunk.clone(),
                apache: f.verdict.apache.clone(),
                deviation: None,
            }));
        }
        s
    }
}

/// Steps 2–5. `progress` gets one line per finding and a line every 100 inputs.
pub fn run(pair: &Pair, opts: &Options, mut progress: impl FnMut(&str)) -> Result<Report, String> {
    let (a, o) = (pair.apache.addr(), pair.ours.addr());
    let p = opts.patience;
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    for dir in &opts.corpora {
        let found = corpus::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        progress(&format!("{}: {} requests", dir.display(), found.len()));
        inputs.extend(found.into_iter().map(|c| (c.origin, c.bytes)));
    }
    let mut rng = generate::Rng::new(opts.seed);
    for i in 0..opts.count {
        inputs.push((
            format!("generated seed {} #{i}", opts.seed),
            generate::request(&mut rng),
        ));
    }
    let mut report = Report::default();
    for (i, (origin, req)) in inputs.iter().enumerate() {
        if i % 100 == 99 {
            progress(&format!(
                "{} tried, {} disagreements, {} kinds",
                i + 1,
                report.disagreements,
                report.findings.len()
            ));
        }
        report.tried += 1;
        let v = judge(a, o, req, p).map_err(|e| format!("{origin}: {e}"))?;
        if v.agrees() {
            continue;
        }
        // Step 4.
        let again = judge(a, o, req, p).map_err(|e| format!("{origin}: {e}"))?;
        if again.agrees() || again.kind() != v.kind() {
            report.flaky += 1;
            continue;
        }
        report.disagreements += 1;
        let kind = v.kind();
        if let Some(f) = report.findings.iter_mut().find(|f| f.kind == kind) {
            f.seen += 1;
            continue;
        }
        // Step 5.
        let shrunk = shrink::shrink(req, opts.shrink_budget, |c| {
            judge(a, o, c, p).is_ok_and(|w| !w.agrees() && w.kind() == kind)
        });
        let verdict = judge(a, o, &shrunk, p).map_err(|e| format!("{origin}: {e}"))?;
        let (shrunk, verdict) = if verdict.kind() == kind {
            (shrunk, verdict)
        } else {
            (req.clone(), v)
        };
        progress(&format!(
            "disagreement [{kind}] {origin}: {}",
            wire::escape(&shrunk)
        ));
        report.findings.push(Finding {
            kind,
            origin: origin.clone(),
            original: req.clone(),
            shrunk,
            verdict,
            seen: 1,
        });
    }
    Ok(report)
}

/// Replay regression entries against one of our servers: the entries whose answer differs
/// from what is expected, with what came back.
pub fn replay(ours: SocketAddr, entries: &[Regression], p: Patience) -> Vec<(String, Observation)> {
    let mut failed = Vec::new();
    for r in entries {
        match observe::observe(ours, &r.request, p) {
            Ok(got) if &got == r.expected() => {}
            Ok(got) => failed.push((r.name.clone(), got)),
            Err(e) => failed.push((
                r.name.clone(),
                Observation {
                    lines: vec![format!("error={e}")],
                },
            )),
        }
    }
    failed
}
