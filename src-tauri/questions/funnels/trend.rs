//! A funnel's conversion over time (`GET /api/funnels/{id}/trend`): the actors entering in
//! each bucket, counted at the furthest step they reach, in total and per group of a
//! breakdown. Each actor counts once, in the bucket of its entry, so a series adds up to the
//! funnel's own counts.

use std::collections::HashMap;

use serde::Serialize;

use super::compute::TrendRow;
use super::Breakdown;
use crate::questions::filters::Filters;
use crate::questions::panels::{conversion_pct, rfc3339, Range};

/// `GET /api/funnels/{id}/trend`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelTrend {
    pub id: String,
    pub range: Range,
    pub interval_s: i64,
    pub as_of_flush: u64,
    pub filters: Filters,
    pub breakdown: Option<Breakdown>,
    /// The total (`group` null) first, then each of the funnel's largest groups.
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub group: Option<String>,
    pub points: Vec<Point>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// The bucket's start.
    #[serde(serialize_with = "rfc3339")]
    pub t: i64,
    /// Actors entering in the bucket that reached at least each step.
    pub steps: Vec<u64>,
    /// Last step over first step (1 decimal); null when nobody entered.
    pub conversion_pct: Option<f64>,
}

/// The series of `rows`: the total, then `groups` in their order, each with a point for every
/// bucket (zero counts where nobody entered).
pub(super) fn series(
    rows: &[TrendRow],
    buckets: std::ops::RangeInclusive<i64>,
    interval_s: i64,
    steps: usize,
    groups: &[String],
) -> Vec<Series> {
    let by_key: HashMap<(Option<&str>, i64), &Vec<u64>> = rows
        .iter()
        .map(|r| {
            let group = (r.total == 0).then_some(r.value.as_str());
            ((group, r.bucket), &r.counts)
        })
        .collect();
    let of = |group: Option<&String>| {
        let points = buckets
            .clone()
            .map(|bucket| {
                let row = by_key.get(&(group.map(String::as_str), bucket));
                let mut counts = row.map_or_else(Vec::new, |counts| counts.to_vec());
                counts.resize(steps, 0);
                Point {
                    t: bucket * interval_s,
                    conversion_pct: conversion_pct(counts[0], counts[steps - 1]),
                    steps: counts,
                }
            })
            .collect();
        Series {
            group: group.cloned(),
            points,
        }
    };
    std::iter::once(of(None))
        .chain(groups.iter().map(|g| of(Some(g))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questions::panels::Window;

    fn row(value: &str, total: u8, bucket: i64, counts: &[u64]) -> TrendRow {
        TrendRow {
            value: value.into(),
            total,
            bucket,
            counts: counts.to_vec(),
        }
    }

    #[test]
    fn every_bucket_has_a_point_and_groups_follow_the_total() {
        // 10:00:30 to 10:03:30 by minute: buckets 10:00 (holding 10:00:30.001) to 10:03.
        let t0 = 1_800_000_000 / 60 * 60;
        let window = Window {
            start_ms: (t0 + 30) * 1000,
            end_ms: (t0 + 210) * 1000,
            bucket_s: 60,
        };
        let buckets = window.bucket_indices(60).unwrap();
        assert_eq!(buckets, t0 / 60..=t0 / 60 + 3);
        let b = t0 / 60;
        let rows = [
            row("", 1, b, &[4, 2]),
            row("", 1, b + 2, &[3, 0]),
            row("gmail.com", 0, b, &[3, 1]),
            row("yahoo.com", 0, b + 2, &[1]),
        ];
        let groups = ["gmail.com".to_owned(), "yahoo.com".to_owned()];
        let series = series(&rows, buckets, 60, 2, &groups);
        type Shape<'a> = (Option<&'a str>, Vec<(i64, Vec<u64>, Option<f64>)>);
        let shape: Vec<Shape> = series
            .iter()
            .map(|s| {
                let points = s
                    .points
                    .iter()
                    .map(|p| ((p.t - t0) / 60, p.steps.clone(), p.conversion_pct))
                    .collect();
                (s.group.as_deref(), points)
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                (
                    None,
                    vec![
                        (0, vec![4, 2], Some(50.0)),
                        (1, vec![0, 0], None),
                        (2, vec![3, 0], Some(0.0)),
                        (3, vec![0, 0], None)
                    ]
                ),
                (
                    Some("gmail.com"),
                    vec![
                        (0, vec![3, 1], Some(33.3)),
                        (1, vec![0, 0], None),
                        (2, vec![0, 0], None),
                        (3, vec![0, 0], None)
                    ]
                ),
                (
                    Some("yahoo.com"),
                    vec![
                        (0, vec![0, 0], None),
                        (1, vec![0, 0], None),
                        (2, vec![1, 0], Some(0.0)),
                        (3, vec![0, 0], None)
                    ]
                ),
            ]
        );
    }
}
