//! SVG plots of timelines: processes, threads, busy and idle workers over time, with the load
//! phases shaded and labelled with their target. Drawn with plotters' SVG backend (no fonts
//! or images needed).

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
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
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
    for (name, color, f) in SERIES {
        let pts: Vec<(f64, f64)> = tl.rows.iter().filter_map(|r| Some((r.t, f(r)?))).collect();
        if pts.is_empty() {
            continue;
        }
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    Ok(())
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
    let h = 320 * panels.len().max(1) as u32;
    let root = SVGBackend::new(path, (1000, h)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let areas = root.split_evenly((panels.len().max(1), 1));
    for (area, (title, tl, spans)) in areas.iter().zip(panels) {
        draw_panel(area, title, tl, spans, tmax, ymax)?;
    }
    root.present().map_err(err)?;
    Ok(())
}
