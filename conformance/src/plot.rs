//! SVG plots of timelines: processes, threads, busy and idle workers over time, with the load
//! phases shaded and labelled with their target. Drawn with plotters' SVG backend (no fonts
//! or images needed).
//!
//! Two choices keep a plot honest:
//! - a sample without a value (a failed status poll has no busy/idle) is a gap in that line,
//!   never a straight segment from the last good poll to the next one: under full load the polls
//!   that fail are exactly the ones that would have shown every worker busy;
//! - the legend sits in its own strip above the chart, so it never covers data.

use crate::timeline::Timeline;
use plotters::prelude::*;
use std::io;
use std::path::Path;

/// A load phase on the timeline's axis: (t_start, t_end, connections held).
pub type Span = (f64, f64, usize);

fn err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

type Series = (
    &'static str,
    RGBColor,
    fn(&crate::timeline::Row) -> Option<f64>,
);

// Threads first, so the processes line is drawn over it where they coincide (prefork).
const SERIES: [Series; 4] = [
    (
        "threads (/proc, incl. parent)",
        RGBColor(127, 127, 127),
        |r| r.os_threads,
    ),
    ("processes", RGBColor(31, 119, 180), |r| r.processes),
    ("busy", RGBColor(214, 39, 40), |r| r.busy),
    ("idle", RGBColor(44, 160, 44), |r| r.idle),
];

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    tl: &Timeline,
    spans: &[Span],
    tmax: f64,
    ymax: f64,
) -> io::Result<()> {
    let (legend_area, area) = area.split_vertically(LEGEND_STRIP);
    draw_legend(&legend_area, title)?;
    let mut chart = ChartBuilder::on(&area)
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(44)
        .build_cartesian_2d(0f64..tmax, 0f64..ymax)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("t (s)")
        .y_desc("count")
        .draw()
        .map_err(err)?;
    for (i, &(s, e, target)) in spans.iter().enumerate() {
        let shade = if i % 2 == 0 {
            RGBColor(255, 200, 120)
        } else {
            RGBColor(255, 230, 180)
        };
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(s, 0.0), (e, ymax)],
                shade.mix(0.35).filled(),
            )))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("{target}"),
                (s + 0.3, ymax * 0.97),
                ("sans-serif", 11),
            )))
            .map_err(err)?;
    }
    // A failed poll is data too: under full load it is the poll that waited behind busy
    // workers. Each one shades its sample interval in grey.
    let failed = tl
        .rows
        .windows(2)
        .filter(|w| !w[1].ok)
        .map(|w| Rectangle::new([(w[0].t, 0.0), (w[1].t, ymax)], FAILED.mix(0.25).filled()));
    chart.draw_series(failed).map_err(err)?;
    for (_, color, f) in SERIES {
        for run in runs(&tl.rows, f) {
            chart
                .draw_series(LineSeries::new(run, color.stroke_width(2)))
                .map_err(err)?;
        }
    }
    Ok(())
}

/// Shade of the intervals whose status poll failed.
const FAILED: RGBColor = RGBColor(90, 90, 90);

/// Height of the strip above each chart that holds the title and the legend.
const LEGEND_STRIP: u32 = 44;

/// Title on the first line, one short line and name per series on the second.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
) -> io::Result<()> {
    area.draw(&Text::new(title.to_string(), (12, 4), ("sans-serif", 15)))
        .map_err(err)?;
    let mut x = 12;
    for (name, color, _) in SERIES {
        area.draw(&PathElement::new(
            vec![(x, 32), (x + 18, 32)],
            color.stroke_width(2),
        ))
        .map_err(err)?;
        area.draw(&Text::new(name, (x + 22, 26), ("sans-serif", 12)))
            .map_err(err)?;
        // Wide enough for plotters' SVG text at 12 px, which has no font metrics to ask.
        x += 30 + 6 * name.len() as i32;
    }
    area.draw(&Rectangle::new(
        [(x, 27), (x + 18, 37)],
        FAILED.mix(0.25).filled(),
    ))
    .map_err(err)?;
    area.draw(&Text::new(
        "status poll failed",
        (x + 22, 26),
        ("sans-serif", 12),
    ))
    .map_err(err)?;
    Ok(())
}

/// The stretches of consecutive samples where `f` has a value: each becomes its own line, so
/// a sample without a value leaves a gap.
pub fn runs(
    rows: &[crate::timeline::Row],
    f: fn(&crate::timeline::Row) -> Option<f64>,
) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cur = Vec::new();
    for r in rows {
        match f(r) {
            Some(v) => cur.push((r.t, v)),
            None if !cur.is_empty() => out.push(std::mem::take(&mut cur)),
            None => {}
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn extent(tls: &[(&str, &Timeline, &[Span])]) -> (f64, f64) {
    let mut tmax: f64 = 1.0;
    let mut ymax: f64 = 1.0;
    for (_, tl, spans) in tls {
        for r in &tl.rows {
            tmax = tmax.max(r.t);
            for (_, _, f) in SERIES {
                ymax = ymax.max(f(r).unwrap_or(0.0));
            }
        }
        for s in spans.iter() {
            tmax = tmax.max(s.1);
        }
    }
    (tmax, ymax * 1.1)
}

/// One timeline, one panel.
pub fn plot_timeline(path: &Path, title: &str, tl: &Timeline, spans: &[Span]) -> io::Result<()> {
    plot_panels(path, &[(title, tl, spans)])
}

/// Several timelines stacked (same axes), e.g. ours above Apache's.
pub fn plot_panels(path: &Path, panels: &[(&str, &Timeline, &[Span])]) -> io::Result<()> {
    let (tmax, ymax) = extent(panels);
    let h = 360 * panels.len().max(1) as u32;
    let root = SVGBackend::new(path, (1000, h)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let areas = root.split_evenly((panels.len().max(1), 1));
    for (area, (title, tl, spans)) in areas.iter().zip(panels) {
        draw_panel(area, title, tl, spans, tmax, ymax)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::runs;
    use crate::timeline::Row;

    fn row(t: f64, busy: Option<f64>) -> Row {
        Row {
            t,
            ok: busy.is_some(),
            busy,
            ..Row::default()
        }
    }

    /// A failed poll splits the busy line: no segment joins t=1 to t=3 across it.
    #[test]
    fn a_sample_without_a_value_is_a_gap() {
        let rows = [
            row(0.0, Some(1.0)),
            row(1.0, Some(2.0)),
            row(2.0, None),
            row(3.0, Some(50.0)),
            row(4.0, None),
        ];
        assert_eq!(
            runs(&rows, |r| r.busy),
            vec![vec![(0.0, 1.0), (1.0, 2.0)], vec![(3.0, 50.0)]]
        );
        assert!(runs(&rows[2..3], |r| r.busy).is_empty());
    }
}
