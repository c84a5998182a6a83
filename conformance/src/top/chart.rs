//! The timeline chart of [`super::draw`]: processes (× ThreadsPerChild), busy, idle, what `top`
//! holds and event's parked keep-alive connections over the last minutes, events as vertical
//! lines, and a row of event marks under it.

use super::Palette;
use crate::top::model::{Entry, Kind, Model};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Color;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph};

/// One line of the chart: its name, colour, marker without colour, and value in a row.
struct Series {
    name: String,
    color: Color,
    marker: Marker,
    points: Vec<(f64, f64)>,
}

fn series(m: &Model) -> Vec<Series> {
    let rows = m.visible_rows();
    let pts = |g: &dyn Fn(&crate::timeline::Row) -> Option<f64>| -> Vec<(f64, f64)> {
        rows.iter().filter_map(|r| Some((r.t, g(r)?))).collect()
    };
    let tpc = m.tpc as f64;
    let mut out = vec![Series {
        name: if m.tpc > 1 {
            format!("procs×{}", m.tpc)
        } else {
            "procs".into()
        },
        color: Color::White,
        marker: Marker::Block,
        points: pts(&|r| r.processes.map(|p| p * tpc)),
    }];
    out.push(Series {
        name: "busy".into(),
        color: Color::Red,
        marker: Marker::Dot,
        points: pts(&|r| r.busy),
    });
    out.push(Series {
        name: "idle".into(),
        color: Color::Green,
        marker: Marker::Braille,
        points: pts(&|r| r.idle),
    });
    if !m.load.is_empty() {
        // The client side: what was held at each sample's time (a step function).
        let held = |t: f64| {
            let i = m.load.partition_point(|l| l.t <= t);
            i.checked_sub(1).map(|i| m.load[i].held as f64)
        };
        out.push(Series {
            name: "held".into(),
            color: Color::Yellow,
            marker: Marker::Bar,
            points: pts(&|r| held(r.t)),
        });
    }
    if rows
        .iter()
        .any(|r| r.conns_keepalive.is_some_and(|k| k > 0.0))
    {
        out.push(Series {
            name: "ka-conns".into(),
            color: Color::Cyan,
            marker: Marker::HalfBlock,
            points: pts(&|r| r.conns_keepalive),
        });
    }
    out
}

pub(super) fn draw_chart(f: &mut Frame, area: Rect, m: &Model, p: Palette) {
    let series = series(m);
    let ymax = series
        .iter()
        .flat_map(|s| s.points.iter().map(|&(_, y)| y))
        .fold(4.0_f64, f64::max);
    let ymax = (ymax * 1.1).ceil();
    let (x1, x0) = (m.now(), m.now() - m.window);
    let marks: Vec<(&Entry, [(f64, f64); 2])> = m
        .visible_feed()
        .filter(|e| e.kind.marked())
        .map(|e| (e, [(e.t, 0.0), (e.t, ymax)]))
        .collect();
    let mut datasets: Vec<Dataset> = marks
        .iter()
        .map(|(e, pts)| {
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(p.kind(e.kind))
                .data(pts)
        })
        .collect();
    for s in &series {
        datasets.push(
            Dataset::default()
                .marker(if p.color { Marker::Braille } else { s.marker })
                .graph_type(if p.color {
                    GraphType::Line
                } else {
                    GraphType::Scatter
                })
                .style(p.fg(s.color))
                .data(&s.points),
        );
    }
    let mut title = vec![Span::raw(format!(" Timeline, last {:.0} s: ", m.window))];
    for s in &series {
        let mark = if p.color {
            "━".to_string()
        } else {
            marker_char(s.marker).to_string()
        };
        title.push(Span::styled(format!("{} {mark} ", s.name), p.fg(s.color)));
    }
    let ylabels = [
        "0".to_string(),
        format!("{:.0}", ymax / 2.0),
        format!("{ymax:.0}"),
    ];
    let first_xlabel = format!("-{:.0}s", m.window);
    let block = Block::bordered().title(Line::from(title));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [graph, strip] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    // The graph's left edge as ratatui's Chart lays it out (chart.rs, `layout`): the widest y
    // label or the first x label less one, at most a third of the width, then the axis.
    let ylabel_w = ylabels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u16;
    let left = ylabel_w
        .max((first_xlabel.chars().count() as u16).saturating_sub(1))
        .min(graph.width / 3);
    let chart = Chart::new(datasets)
        .x_axis(Axis::default().bounds([x0, x1]).labels([
            first_xlabel,
            format!("-{:.0}s", m.window / 2.0),
            "now".into(),
        ]))
        .y_axis(Axis::default().bounds([0.0, ymax]).labels(ylabels));
    f.render_widget(chart, graph);
    draw_event_row(f, strip, left, m, p);
}

/// One row under the chart: each feed entry as a mark in the column of its time (`+` fork,
/// `-` reap, `!` MaxRequestWorkers, `G`/`H`/`S` graceful, restart, stop, `*` a key).
fn draw_event_row(f: &mut Frame, area: Rect, left: u16, m: &Model, p: Palette) {
    let width = area.width.saturating_sub(left + 1) as usize;
    if width < 2 {
        return;
    }
    let x0 = m.now() - m.window;
    let mut cells: Vec<Option<(char, u8, Kind)>> = vec![None; width];
    for e in m.visible_feed() {
        let Some((c, prio)) = e.kind.mark() else {
            continue;
        };
        let col = ((e.t - x0) / m.window * (width - 1) as f64).round();
        if !(0.0..width as f64).contains(&col) {
            continue;
        }
        let cell = &mut cells[col as usize];
        if cell.is_none_or(|(_, p0, _)| prio >= p0) {
            *cell = Some((c, prio, e.kind));
        }
    }
    let mut spans = vec![Span::raw(format!("{:>w$} ", "ev", w = left as usize))];
    spans.extend(cells.into_iter().map(|c| match c {
        Some((ch, _, kind)) => Span::styled(ch.to_string(), p.kind(kind)),
        None => Span::raw(" "),
    }));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn marker_char(m: Marker) -> char {
    match m {
        Marker::Block => '█',
        Marker::Dot => '•',
        Marker::Bar => '▄',
        Marker::HalfBlock => '▀',
        _ => '⣿',
    }
}
