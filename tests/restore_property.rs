//! Property (issue #21): for random straight-line notebooks over a few names (assignments,
//! reads, augmented assignments, in-place `append`/`extend`/`update`), after any single
//! cell edit, every cell `jellycell-lsp run` reports cached has the outputs a fresh full
//! run gives it (no false hit), and no run fails (no NameError: restore brings back what
//! skipped cells defined). Real binary, real ipykernel; the cases are few so that it fits
//! CI. It prints how many cells re-ran although their outputs did not change: the price
//! of the analysis over-approximating.

mod support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use support::project::{TestProject, key_of, statuses};

/// Lists `a`, `b`; a dict `d`.
const NAMES: [&str; 3] = ["a", "b", "d"];

#[derive(Debug, Clone, Copy)]
enum Op {
    Assign(usize, u8),
    /// `x = y + [k]` (a new object: no aliasing, which the analysis does not follow).
    Derive(usize, usize, u8),
    Augment(usize, u8),
    Append(usize, u8),
    Extend(usize, u8),
    Print(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let name = 0..NAMES.len();
    let k = 0u8..20;
    prop_oneof![
        (name.clone(), k.clone()).prop_map(|(x, k)| Op::Assign(x, k)),
        (name.clone(), name.clone(), k.clone()).prop_map(|(x, y, k)| Op::Derive(x, y, k)),
        (name.clone(), k.clone()).prop_map(|(x, k)| Op::Augment(x, k)),
        (name.clone(), k.clone()).prop_map(|(x, k)| Op::Append(x, k)),
        (name.clone(), k).prop_map(|(x, k)| Op::Extend(x, k)),
        name.prop_map(Op::Print),
    ]
}

/// Makes `ops` valid after `defined` (every name read is defined first) and returns it.
fn repair(ops: &[Op], defined: &mut BTreeSet<usize>) -> Vec<Op> {
    let mut fixed = Vec::new();
    for &op in ops {
        let op = match op {
            Op::Derive(x, y, k) if x == y || !defined.contains(&y) || NAMES[x] == "d" => {
                Op::Assign(x, k)
            }
            Op::Augment(x, k) | Op::Append(x, k) | Op::Extend(x, k) if !defined.contains(&x) => {
                Op::Assign(x, k)
            }
            Op::Print(x) if !defined.contains(&x) => Op::Assign(x, 0),
            other => other,
        };
        if let Op::Assign(x, _) | Op::Derive(x, _, _) = op {
            defined.insert(x);
        }
        fixed.push(op);
    }
    fixed
}

fn statement(op: Op) -> String {
    let dict = |x: usize| NAMES[x] == "d";
    match op {
        Op::Assign(x, k) if dict(x) => format!("d = {{{k}: {k}}}"),
        Op::Assign(x, k) => format!("{} = [{k}]", NAMES[x]),
        Op::Derive(x, y, k) if dict(y) => format!("{} = sorted(d) + [{k}]", NAMES[x]),
        Op::Derive(x, y, k) => format!("{} = {} + [{k}]", NAMES[x], NAMES[y]),
        Op::Augment(x, k) if dict(x) => format!("d |= {{{k}: -{k}}}"),
        Op::Augment(x, k) => format!("{} += [{k}]", NAMES[x]),
        Op::Append(x, k) if dict(x) => format!("d.update({{{k}: {k} * 2}})"),
        Op::Append(x, k) => format!("{}.append({k})", NAMES[x]),
        Op::Extend(x, k) if dict(x) => format!("d.update({{{k}: 7}})"),
        Op::Extend(x, k) => format!("{}.extend([{k}, {k}])", NAMES[x]),
        Op::Print(x) if dict(x) => "print(sorted(d.items()))".to_string(),
        Op::Print(x) => format!("print({})", NAMES[x]),
    }
}

/// The notebook; each cell ends by printing the names it changed, so that its outputs
/// show the state it left.
fn notebook(cells: &[Vec<Op>]) -> String {
    let mut text = String::new();
    for (index, ops) in cells.iter().enumerate() {
        text.push_str(&format!("# %% tags=[\"jc.step\", \"name=c{index}\"]\n"));
        let mut changed = BTreeSet::new();
        for op in ops {
            text.push_str(&statement(*op));
            text.push('\n');
            if let Op::Assign(x, _)
            | Op::Derive(x, _, _)
            | Op::Augment(x, _)
            | Op::Append(x, _)
            | Op::Extend(x, _) = op
            {
                changed.insert(*x);
            }
        }
        for x in changed {
            text.push_str(&statement(Op::Print(x)));
            text.push('\n');
        }
        text.push('\n');
    }
    text
}

/// A notebook (repaired) and an edit of one of its cells: a changed literal, or one more
/// statement.
fn case() -> impl Strategy<Value = (Vec<Vec<Op>>, Vec<Vec<Op>>, usize)> {
    (
        prop::collection::vec(prop::collection::vec(op(), 1..=3), 3..=4),
        any::<prop::sample::Index>(),
        prop::option::of(op()),
    )
        .prop_map(|(raw, at, extra)| {
            let mut defined = BTreeSet::new();
            let cells: Vec<Vec<Op>> = raw.iter().map(|ops| repair(ops, &mut defined)).collect();
            let target = at.index(cells.len());
            // Only the target changes: an edit only adds definitions, so the cells below
            // stay valid as they are.
            let mut defined = BTreeSet::new();
            for ops in &cells[..target] {
                repair(ops, &mut defined);
            }
            let mut ops = cells[target].clone();
            match extra {
                Some(extra) => ops.push(extra),
                None => bump_first_literal(&mut ops),
            }
            let mut edited = cells.clone();
            edited[target] = repair(&ops, &mut defined);
            (cells, edited, target)
        })
}

fn bump_first_literal(ops: &mut [Op]) {
    for op in ops.iter_mut() {
        match op {
            Op::Assign(_, k)
            | Op::Derive(_, _, k)
            | Op::Augment(_, k)
            | Op::Append(_, k)
            | Op::Extend(_, k) => {
                *k += 1;
                return;
            }
            Op::Print(_) => {}
        }
    }
    if let Some(first) = ops.first_mut() {
        *first = Op::Assign(0, 99);
    }
}

fn stdouts(project: &TestProject, report: &Value, cells: usize) -> Vec<String> {
    (0..cells)
        .map(|index| project.stdout_of(&key_of(report, &format!("c{index}"))))
        .collect()
}

static RERAN: AtomicUsize = AtomicUsize::new(0);
static RERAN_UNCHANGED: AtomicUsize = AtomicUsize::new(0);
static CACHED: AtomicUsize = AtomicUsize::new(0);

fn check(cells: &[Vec<Op>], edited: &[Vec<Op>], target: usize) -> Result<(), TestCaseError> {
    let path = "notebooks/p.py";
    let project = TestProject::new(&[(path, &notebook(cells))]);
    let (code, first) = project.run(path, &[]);
    prop_assert_eq!(code, 0, "the generated notebook runs: {}", first);
    let before = stdouts(&project, &first, cells.len());

    let text = notebook(edited);
    project.write(path, &text);
    let (code, second) = project.run(path, &[]);
    prop_assert_eq!(code, 0, "after the edit:\n{}\n{}", text, second);
    let after = stdouts(&project, &second, edited.len());

    let (code, fresh) = project.run(path, &["--force"]);
    prop_assert_eq!(code, 0, "{}", fresh);
    let truth = stdouts(&project, &fresh, edited.len());
    for (index, status) in statuses(&second).iter().enumerate() {
        match status.as_str() {
            "cached" => {
                CACHED.fetch_add(1, Ordering::Relaxed);
                prop_assert_eq!(
                    &after[index],
                    &truth[index],
                    "false hit on c{} in\n{}",
                    index,
                    text
                );
            }
            "ok" => {
                prop_assert_eq!(&after[index], &truth[index], "c{} in\n{}", index, text);
                if index != target {
                    RERAN.fetch_add(1, Ordering::Relaxed);
                    if after[index] == before[index] {
                        RERAN_UNCHANGED.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            other => prop_assert!(false, "c{} is {} in\n{}\n{}", index, other, text, second),
        }
    }
    Ok(())
}

#[test]
#[allow(clippy::print_stderr)]
fn after_any_single_cell_edit_a_cached_cell_is_never_wrong_and_nothing_fails() {
    let mut runner = TestRunner::new(Config {
        cases: 8,
        max_shrink_iters: 16,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&case(), |(cells, edited, target)| {
        check(&cells, &edited, target)
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    eprintln!(
        "restore property: {} cells cached (all correct); besides the edited cells, {} \
         re-ran, of which {} with unchanged outputs (the price of over-approximation)",
        CACHED.load(Ordering::Relaxed),
        RERAN.load(Ordering::Relaxed),
        RERAN_UNCHANGED.load(Ordering::Relaxed)
    );
}
