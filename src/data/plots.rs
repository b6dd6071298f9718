//! SVG plots (feature `train`, plotters): a run's learning curves, confusion matrix and
//! reliability diagram before and after temperature scaling, and the model comparison's bar
//! chart with error bars. Written beside the model card / comparison and logged as artifacts.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::core::event::EventKind;
use crate::data::error::{Error, Result};
use crate::data::metrics::Bin;
use crate::data::metrics::EpochStats;

const FONT: &str = "sans-serif";

fn plot_err(path: &Path) -> impl Fn(String) -> Error + '_ {
    move |reason| Error::Plot {
        path: path.to_path_buf(),
        reason,
    }
}

/// Loss (train, validation) and validation macro-F1 per epoch, side by side.
pub fn curves_svg(path: &Path, history: &[EpochStats], best_epoch: usize) -> Result<()> {
    let err = plot_err(path);
    if history.is_empty() {
        return Err(err("no epochs to plot".into()));
    }
    let root = SVGBackend::new(path, (900, 340)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let (left, right) = root.split_horizontally(450);
    let n = history.len() as f64;
    let xs = 0.5..n + 0.5;
    let losses = history.iter().flat_map(|h| [h.train_loss, h.valid_loss]);
    let (lo, hi) = losses.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let pad = ((hi - lo) * 0.1).max(1e-3);
    let mut c = ChartBuilder::on(&left)
        .caption("Loss per epoch", (FONT, 18))
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(52)
        .build_cartesian_2d(xs.clone(), (lo - pad)..(hi + pad))
        .map_err(|e| err(e.to_string()))?;
    c.configure_mesh()
        .x_desc("epoch")
        .y_desc("cross-entropy")
        .x_labels(history.len().min(12))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    for (name, colour, get) in [
        (
            "train",
            BLUE,
            (|h: &EpochStats| h.train_loss) as fn(&EpochStats) -> f64,
        ),
        ("validation", RED, |h: &EpochStats| h.valid_loss),
    ] {
        c.draw_series(LineSeries::new(
            history.iter().map(|h| (h.epoch as f64, get(h))),
            colour.stroke_width(2),
        ))
        .map_err(|e| err(e.to_string()))?
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2)));
    }
    c.configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(|e| err(e.to_string()))?;

    let f1: Vec<f64> = history.iter().map(|h| h.valid_macro_f1).collect();
    let (lo, hi) = f1
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let pad = ((hi - lo) * 0.15).max(0.005);
    let mut c = ChartBuilder::on(&right)
        .caption("Validation macro-F1", (FONT, 18))
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(52)
        .build_cartesian_2d(xs, (lo - pad)..(hi + pad))
        .map_err(|e| err(e.to_string()))?;
    c.configure_mesh()
        .x_desc("epoch")
        .y_desc("macro-F1")
        .x_labels(history.len().min(12))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    c.draw_series(LineSeries::new(
        history.iter().map(|h| (h.epoch as f64, h.valid_macro_f1)),
        GREEN.stroke_width(2),
    ))
    .map_err(|e| err(e.to_string()))?;
    if let Some(b) = history.iter().find(|h| h.epoch == best_epoch) {
        c.draw_series([Circle::new(
            (b.epoch as f64, b.valid_macro_f1),
            5,
            BLACK.filled(),
        )])
        .map_err(|e| err(e.to_string()))?
        .label(format!("kept: epoch {best_epoch}"))
        .legend(|(x, y)| Circle::new((x + 9, y), 4, BLACK.filled()));
        c.configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()
            .map_err(|e| err(e.to_string()))?;
    }
    root.present().map_err(|e| err(e.to_string()))
}

/// The confusion matrix (rows: true kind, columns: predicted), shaded by row share, with counts.
pub fn confusion_svg(path: &Path, m: &[[u64; 4]; 4], title: &str) -> Result<()> {
    let err = plot_err(path);
    let root = SVGBackend::new(path, (560, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut c = ChartBuilder::on(&root)
        .caption(title, (FONT, 18))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(130)
        .build_cartesian_2d((0u32..3).into_segmented(), (0u32..3).into_segmented())
        .map_err(|e| err(e.to_string()))?;
    // Rows are drawn top-down: true class i sits at y = 3 - i.
    let name = |v: &SegmentValue<u32>, flip: bool| match v {
        SegmentValue::CenterOf(i) if *i < 4 => EventKind::ALL
            [if flip { 3 - *i as usize } else { *i as usize }]
        .as_str()
        .to_string(),
        _ => String::new(),
    };
    c.configure_mesh()
        .disable_mesh()
        .x_label_formatter(&|v| name(v, false))
        .y_label_formatter(&|v| name(v, true))
        .x_desc("predicted")
        .y_desc("true")
        .draw()
        .map_err(|e| err(e.to_string()))?;
    let centre = (FONT, 15)
        .into_font()
        .into_text_style(&root)
        .pos(Pos::new(HPos::Center, VPos::Center));
    for (i, row) in m.iter().enumerate() {
        let total = row.iter().sum::<u64>().max(1) as f64;
        for (j, &v) in row.iter().enumerate() {
            let share = v as f64 / total;
            let (x, y) = (j as u32, 3 - i as u32);
            let shade = RGBColor(
                (255.0 - share * 244.0) as u8,
                (255.0 - share * 148.0) as u8,
                (255.0 - share * 52.0) as u8,
            );
            c.draw_series([Rectangle::new(
                [
                    (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                    (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
                ],
                shade.filled(),
            )])
            .map_err(|e| err(e.to_string()))?;
            let ink = if share > 0.55 { WHITE } else { BLACK };
            c.draw_series([Text::new(
                format!("{v} ({:.0}%)", share * 100.0),
                (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)),
                centre.clone().color(&ink),
            )])
            .map_err(|e| err(e.to_string()))?;
        }
    }
    root.present().map_err(|e| err(e.to_string()))
}

/// Reliability diagram: accuracy against mean confidence per bin, one line per series (e.g.
/// before and after temperature scaling), with the diagonal of perfect calibration.
pub fn reliability_svg(path: &Path, series: &[(&str, &[Bin])]) -> Result<()> {
    let err = plot_err(path);
    let root = SVGBackend::new(path, (520, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut c = ChartBuilder::on(&root)
        .caption("Reliability of the top prediction", (FONT, 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)
        .map_err(|e| err(e.to_string()))?;
    c.configure_mesh()
        .x_desc("confidence")
        .y_desc("accuracy")
        .draw()
        .map_err(|e| err(e.to_string()))?;
    c.draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.4)))
        .map_err(|e| err(e.to_string()))?
        .label("perfect calibration")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.mix(0.4)));
    let colours = [RED, BLUE, GREEN, MAGENTA];
    for (k, (name, bins)) in series.iter().enumerate() {
        let colour = colours[k % colours.len()];
        let pts: Vec<(f64, f64)> = bins
            .iter()
            .filter(|b| b.n > 0)
            .map(|b| (b.confidence, b.accuracy))
            .collect();
        c.draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))
            .map_err(|e| err(e.to_string()))?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
        c.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, colour.filled())))
            .map_err(|e| err(e.to_string()))?;
    }
    c.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))
}

/// One bar of the comparison chart: a model's mean ± std of a metric over seeds.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub mean: f64,
    pub std: f64,
}

/// One panel of the comparison chart: its title, the bars, and named reference lines.
pub type Panel<'a> = (&'a str, Vec<Bar>, Vec<(String, f64)>);

/// Side-by-side panels (one per metric) of bars with ±1 std error bars, and dashed reference
/// lines (baselines) across each panel.
pub fn comparison_svg(path: &Path, panels: &[Panel<'_>]) -> Result<()> {
    let err = plot_err(path);
    if panels.is_empty() || panels.iter().any(|p| p.1.is_empty()) {
        return Err(err("nothing to compare".into()));
    }
    let width = 480 * panels.len() as u32;
    let root = SVGBackend::new(path, (width, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let areas = root.split_evenly((1, panels.len()));
    let refs_colours = [RED, MAGENTA, GREEN, CYAN];
    for (area, (title, bars, refs)) in areas.iter().zip(panels) {
        let n = bars.len() as u32;
        let values = bars
            .iter()
            .flat_map(|b| [b.mean - b.std, b.mean + b.std])
            .chain(refs.iter().map(|r| r.1));
        let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
        let pad = ((hi - lo) * 0.25).max(0.005);
        let (y0, y1) = ((lo - pad).max(0.0), (hi + pad).min(1.0));
        let mut c = ChartBuilder::on(area)
            .caption(*title, (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d((0u32..n - 1).into_segmented(), y0..y1)
            .map_err(|e| err(e.to_string()))?;
        c.configure_mesh()
            .disable_x_mesh()
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => bars
                    .get(*i as usize)
                    .map_or(String::new(), |b| b.label.clone()),
                _ => String::new(),
            })
            .y_label_formatter(&|y| format!("{y:.3}"))
            .draw()
            .map_err(|e| err(e.to_string()))?;
        c.draw_series(
            Histogram::vertical(&c)
                .baseline(y0)
                .margin(14)
                .style_func(|x, _| {
                    if matches!(x, SegmentValue::CenterOf(0) | SegmentValue::Exact(0)) {
                        RGBColor(33, 102, 172).filled()
                    } else {
                        RGBColor(146, 197, 222).filled()
                    }
                })
                .data(bars.iter().enumerate().map(|(i, b)| (i as u32, b.mean))),
        )
        .map_err(|e| err(e.to_string()))?;
        for (i, b) in bars.iter().enumerate() {
            let i = i as u32;
            c.draw_series([ErrorBar::new_vertical(
                SegmentValue::CenterOf(i),
                b.mean - b.std,
                b.mean,
                b.mean + b.std,
                BLACK.stroke_width(2),
                12,
            )])
            .map_err(|e| err(e.to_string()))?;
        }
        for (k, (name, v)) in refs.iter().enumerate() {
            let colour = refs_colours[k % refs_colours.len()];
            let v = *v;
            c.draw_series(DashedLineSeries::new(
                [(SegmentValue::Exact(0), v), (SegmentValue::Exact(n), v)],
                6,
                4,
                colour.stroke_width(2),
            ))
            .map_err(|e| err(e.to_string()))?
            .label(format!("{name} {v:.4}"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
        }
        if !refs.is_empty() {
            c.configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font((FONT, 12))
                .border_style(BLACK)
                .background_style(WHITE.mix(0.85))
                .draw()
                .map_err(|e| err(e.to_string()))?;
        }
    }
    root.present().map_err(|e| err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::metrics;

    #[test]
    fn plots_are_written_as_svg_with_their_labels() {
        let dir = std::env::temp_dir().join(format!("nextevent-plots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let history: Vec<EpochStats> = (1..=4)
            .map(|e| EpochStats {
                epoch: e,
                train_loss: 1.0 / e as f64,
                valid_loss: 1.1 / e as f64,
                valid_accuracy: 0.5,
                valid_macro_f1: 0.5 + e as f64 * 0.01,
                seconds: 1.0,
                windows_per_second: 1.0,
                valid_conversion_loss: None,
            })
            .collect();
        let p = dir.join("curves.svg");
        curves_svg(&p, &history, 3).unwrap();
        let svg = std::fs::read_to_string(&p).unwrap();
        assert!(
            svg.starts_with("<svg")
                && svg.contains("Loss per epoch")
                && svg.contains("kept: epoch 3")
        );

        let m = [[50, 3, 2, 1], [4, 40, 5, 1], [2, 6, 30, 2], [0, 1, 0, 9]];
        let p = dir.join("confusion.svg");
        confusion_svg(&p, &m, "Test confusion").unwrap();
        let svg = std::fs::read_to_string(&p).unwrap();
        assert!(
            svg.contains("remove_from_cart") && svg.contains("50 (89%)"),
            "{svg}"
        );

        let probs = [0.9f32, 0.05, 0.03, 0.02, 0.6, 0.3, 0.05, 0.05];
        let bins = metrics::reliability_bins(&probs, &[0, 1], 10);
        assert_eq!(bins.iter().map(|b| b.n).sum::<u64>(), 2);
        let p = dir.join("rel.svg");
        reliability_svg(&p, &[("before", &bins), ("after", &bins)]).unwrap();
        assert!(std::fs::read_to_string(&p)
            .unwrap()
            .contains("perfect calibration"));
        assert!(curves_svg(&dir.join("x.svg"), &[], 0).is_err());

        let bars = vec![
            Bar {
                label: "CNN+BiGRU".into(),
                mean: 0.71,
                std: 0.004,
            },
            Bar {
                label: "LSTM".into(),
                mean: 0.70,
                std: 0.01,
            },
        ];
        let p = dir.join("cmp.svg");
        comparison_svg(
            &p,
            &[("Test macro-F1", bars, vec![("Markov-1".into(), 0.69)])],
        )
        .unwrap();
        let svg = std::fs::read_to_string(&p).unwrap();
        assert!(
            svg.contains("Test macro-F1")
                && svg.contains("LSTM")
                && svg.contains("Markov-1 0.6900"),
            "{svg}"
        );
        assert!(comparison_svg(&dir.join("y.svg"), &[]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
