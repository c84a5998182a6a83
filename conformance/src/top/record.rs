//! What a `top` session leaves behind: `timeline.csv`, `load.csv` and `summary.txt` (and
//! `timeline.svg`, the error log and the config) written by the same code as `mpm-lab run`
//! ([`crate::lab::write_outputs`]), so `mpm-lab compare` reads a live session like a run.

use super::model::Model;
use crate::lab::{self, Outputs};
use crate::summary;
use crate::timeline::Timeline;
use std::io;
use std::path::Path;

/// Write the session into `out`; returns the summary text. `error_log` is the whole log when
/// there is one (its lines are placed on the axis as `run` places them); otherwise the lines
/// `top` showed are used. `config` is the text of the config the server ran.
pub fn write(
    out: &Path,
    model: &Model,
    title: &str,
    error_log: Option<&str>,
    config: Option<&str>,
) -> io::Result<String> {
    std::fs::create_dir_all(out)?;
    let tl = Timeline {
        rows: model.rows.clone(),
    };
    let spans = summary::phase_spans(&model.load, tl.epoch0());
    let lines = match error_log {
        Some(log) => {
            std::fs::write(out.join("error_log"), log)?;
            summary::error_lines(log, tl.epoch0())
        }
        None => model.log_lines.clone(),
    };
    if let Some(c) = config {
        std::fs::write(out.join("httpd.conf"), c)?;
    }
    lab::write_outputs(
        out,
        &Outputs {
            title,
            timeline: &tl,
            spans: &spans,
            load: &model.load,
            log_lines: &lines,
            lang: crate::i18n::Lang::En,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::Row;

    #[test]
    fn a_session_reads_back_as_a_run() {
        let mut m = Model::new("t", Some("prefork"), 1);
        for i in 0..20 {
            let mut row = Row {
                t: i as f64 * 0.5,
                epoch: 1_000_000.0 + i as f64 * 0.5,
                ok: true,
                processes: Some(5.0 + (i / 4) as f64),
                proc_src: "key".into(),
                ..Row::default()
            };
            row.busy = Some(1.0);
            m.push_sample(super::super::model::Sample {
                row,
                ..Default::default()
            });
        }
        m.set_held(
            2.0,
            1_000_002.0,
            super::super::model::Held {
                partial: 10,
                keepalive: 0,
            },
        );
        let dir = std::env::temp_dir().join(format!("mpm-lab-top-record-{}", std::process::id()));
        let text = write(&dir, &m, "test session", None, None).expect("write");
        assert!(text.starts_with("test session\n"));
        let back = Timeline::read(&dir.join("timeline.csv")).expect("read back");
        assert_eq!(back.rows, m.rows);
        let cmp = lab::compare(
            &dir.join("timeline.csv"),
            &dir.join("timeline.csv"),
            &dir.join("cmp"),
        )
        .expect("compare accepts it");
        assert!(cmp.contains("max processes"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
