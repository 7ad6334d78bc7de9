//! A chart of figures per second, as a standalone SVG document.

// Seconds and legend rows are counted in `usize` and drawn in `f64`: far below 2^52.
#![allow(clippy::cast_precision_loss)]

use std::{fmt::Write, time::Duration};

/// Figures per period (a second unless [`period`](Self::period) says otherwise) drawn as
/// filled areas (behind) and lines, with a legend: a replay's
/// traffic and each configuration's refusals ([`Replay::chart`](super::Replay::chart)).
///
/// ```
/// use fusebox::simulate::Chart;
///
/// let svg = Chart::new("checkout <outage>", "calls per second")
///     .area("calls", "#e6e6e6", vec![10.0, 10.0, 10.0])
///     .line("refused", "#1f77b4", vec![0.0, 8.0, 2.0])
///     .svg();
/// assert!(svg.starts_with("<svg"));
/// assert!(svg.contains("checkout &lt;outage&gt;"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    title: String,
    unit: String,
    period: Duration,
    areas: Vec<Series>,
    lines: Vec<Series>,
}

#[derive(Clone, Debug, PartialEq)]
struct Series {
    name: String,
    colour: String,
    values: Vec<f64>,
}

impl Chart {
    /// An empty chart titled `title`, its values in `unit`.
    #[must_use]
    pub fn new(title: &str, unit: &str) -> Chart {
        Chart {
            title: title.to_owned(),
            unit: unit.to_owned(),
            period: Duration::from_secs(1),
            areas: Vec::new(),
            lines: Vec::new(),
        }
    }

    /// Each value covers `period` (a second unless set).
    #[must_use]
    pub const fn period(mut self, period: Duration) -> Chart {
        self.period = period;
        self
    }

    /// Adds a filled area, a value per period, drawn behind the lines (in the order added).
    #[must_use]
    pub fn area(mut self, name: &str, colour: &str, values: Vec<f64>) -> Chart {
        self.areas.push(Series::new(name, colour, values));
        self
    }

    /// Adds a line, a value per period.
    #[must_use]
    pub fn line(mut self, name: &str, colour: &str, values: Vec<f64>) -> Chart {
        self.lines.push(Series::new(name, colour, values));
        self
    }

    /// The chart as an SVG document; names and the title are escaped.
    #[must_use]
    pub fn svg(&self) -> String {
        let (width, height, left, top, bottom, legend) = (900.0, 280.0, 44.0, 26.0, 30.0, 240.0);
        let all = || self.areas.iter().chain(&self.lines);
        let periods = all().map(|series| series.values.len()).max().unwrap_or(0);
        let span = periods.max(1) as f64;
        let seconds = self.period.as_secs_f64() * periods as f64;
        let highest = all()
            .flat_map(|series| series.values.iter().copied())
            .filter(|value| value.is_finite())
            .fold(0.0, f64::max);
        let top_value = nice_ceiling(highest);
        let plot_height = height - top - bottom;
        let x = |period: f64| left + period / span * (width - left - legend - 10.0);
        let y = |value: f64| top + plot_height * (1.0 - value / top_value);
        let mut svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11"><rect width="{width}" height="{height}" fill="white"/><text x="{left}" y="16" font-size="13">{} ({})</text>"#,
            escape(&self.title),
            escape(&self.unit)
        );
        for value in [0.0, top_value / 2.0, top_value] {
            let _ = write!(
                svg,
                r##"<line x1="{left}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="4" y="{:.1}">{value}</text>"##,
                x(span),
                y(value) + 4.0,
                y = y(value)
            );
        }
        for series in &self.areas {
            let mut path = format!("M{:.1} {:.1}", x(0.0), y(0.0));
            for (period, value) in series.values.iter().enumerate() {
                let _ = write!(
                    path,
                    " L{:.1} {:.1} L{:.1} {:.1}",
                    x(period as f64),
                    y(*value),
                    x(period as f64 + 1.0),
                    y(*value)
                );
            }
            let _ = write!(
                path,
                " L{:.1} {:.1} Z",
                x(series.values.len() as f64),
                y(0.0)
            );
            let _ = write!(
                svg,
                r#"<path d="{path}" fill="{}"/>"#,
                escape(&series.colour)
            );
        }
        for series in &self.lines {
            let points: Vec<String> = series
                .values
                .iter()
                .enumerate()
                .map(|(period, value)| format!("{:.1},{:.1}", x(period as f64 + 0.5), y(*value)))
                .collect();
            let _ = write!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="1.4"/>"#,
                points.join(" "),
                escape(&series.colour)
            );
        }
        for (row, series) in all().enumerate() {
            let line_y = top + 14.0 * row as f64;
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="14" height="8" fill="{}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
                width - legend,
                line_y - 4.0,
                escape(&series.colour),
                width - legend + 20.0,
                line_y + 4.0,
                escape(&series.name)
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{left}" y="{:.1}">0 s</text><text x="{:.1}" y="{:.1}" text-anchor="end">{seconds:.1} s</text></svg>"#,
            height - 10.0,
            x(span),
            height - 10.0
        );
        svg
    }
}

impl Series {
    fn new(name: &str, colour: &str, values: Vec<f64>) -> Series {
        Series {
            name: name.to_owned(),
            colour: colour.to_owned(),
            values,
        }
    }
}

/// The smallest of 1, 2 or 5 times a power of ten at or above `value` (at least 1): the
/// axis's top. `value` is finite.
fn nice_ceiling(value: f64) -> f64 {
    let mut step = 1.0;
    loop {
        for factor in [1.0, 2.0, 5.0] {
            if step * factor >= value {
                return step * factor;
            }
        }
        step *= 10.0;
    }
}

/// `text` safe inside an SVG element or attribute.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}
