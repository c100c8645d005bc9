//! The fast parser against tree-sitter: for every text the fast parser accepts, its tree
//! equals tree-sitter's (kinds, fields, byte ranges, recursively, over named nodes) and
//! the cell's analysis (flow included) equals the one from tree-sitter's tree; any text
//! tree-sitter finds an error in is declined.
//!
//! Samples: hand-written edge cases, the cells of every `.py` under `fixtures/`, the
//! bench notebooks' cells, mutations of them all (a character deleted or doubled), and,
//! when present, the cells of `/work/shared/conformance` and the top-level statements of
//! Python's own standard library.

// The tallies printed (how much each sample the fast parser accepts) are part of the report.
#![allow(clippy::print_stderr)]

use std::path::Path;

use tree_sitter::Node;

use super::fast_parse::parse_fast;
use super::fast_path::{Wanted, analyze_fast};
use super::fast_tree::FastNode;
use super::magics::mask_magics;
use super::parse::{analyze_with_tree_sitter, parse_python};
use super::py_node::PyNode;
use super::{Aliases, JcModule};

const EDGE_CASES: &[&str] = &[
    "",
    "\n\n",
    "x = 1\n",
    "x = 1",
    "  \nx = 1\n",
    "x=1\ny =2\n",
    "a = b = c\n",
    "a, b = 1, 2\n",
    "a, = f()\n",
    "(a, b) = [c, d] = e\n",
    "[a, (b, c)] = x\n",
    "x.y, z[0] = 1, 2\n",
    "x: int = 1\n",
    "x: list[int]\n",
    "x += 1\nx.y -= 2\nx[0] **= 3\nx //= 4\n",
    "x = 1,\n",
    "f()\n",
    "f(a, b=1, *c, **d)\n",
    "f(a,)\n",
    "f(x for x in y)\n",
    "f((x for x in y), 1)\n",
    "a.b.c(d)[e](f).g\n",
    "a[1:2, ::3, :]\n",
    "a[1:]\na[:2]\na[::]\na[1, 2]\na[1,]\n",
    "x = [1, 2, 3]\ny = []\nz = [1,]\n",
    "x = (1, 2)\ny = ()\nz = (1,)\nw = (1)\nv = ((1))\n",
    "d = {}\nd = {1: 2, 'a': b}\nd = {**e, 1: 2}\nd = {1: 2,}\n",
    "s = {1, 2}\ns = {1,}\n",
    "[x for x in y]\n{x for x in y if x}\n{k: v for k, v in d.items()}\n(x for x in y for z in x)\n",
    "[x for x in range(10) if x if not x]\n",
    "x = -1\ny = +x\nz = ~x\nw = not x\n",
    "x = a + b * c - d / e // f % g @ h\n",
    "x = a ** b ** c\ny = -a ** -b\n",
    "x = a | b ^ c & d << e >> f\n",
    "x = a < b <= c == d != e > f >= g\n",
    "x = a in b\ny = a not in b\nz = a is b\nw = a is not b\n",
    "x = a and b or c and not d\n",
    "x = a if b else c\ny = a if b else c if d else e\n",
    "x = 1.5 + .5 + 1. + 1e5 + 1E-5 + 0x1F + 0o17 + 0b101 + 1_000\n",
    "x = True, False, None, ...\n",
    "s = 'a'\ns = \"b\"\ns = '''c\nd'''\ns = \"\"\"e\"\"\"\ns = ''\ns = \"\"\"\"\"\"\n",
    "s = 'a\\nb\\t\\\\ \\' \\\" \\x41 \\u1234 \\U00012345 \\0 \\101'\n",
    "s = b'abc'\ns = u'x'\ns = B\"y\"\ns = rb'z'\ns = Rb'z'\n",
    "s = 'a' 'b'\ns = ('a'\n     'b')\n",
    "s = f'x{y}z'\ns = f\"{a}{b}\"\ns = f''\ns = f'{a.b(c)[d]}'\ns = F'{ x }'\n",
    "s = f'{x, y}'\ns = f\"{d['k']}\"\ns = f'{ {1: 2} }'\n",
    "s = f'a\\n{b}'\n",
    "import a\nimport a.b.c\nimport a as b, c.d as e\n",
    "from a import b\nfrom a.b import c as d, e\nfrom a import (b, c,)\nfrom a import (\n    b,\n    c\n)\n",
    "def f():\n    pass\n",
    "def f(a, b=1, *args, c: int, d: int = 2, **kwargs) -> None:\n    return a\n",
    "def f(a,):\n    return\n",
    "def f(\n    a,\n    b,\n):\n    return a, b\n",
    "def f(x):\n    \"\"\"Doc.\"\"\"\n    return x * 2\n",
    "class A:\n    x = 1\n\n    def m(self):\n        return self.x\n",
    "class A(B, metaclass=M):\n    pass\nclass C():\n    pass\n",
    "if a:\n    b\nelif c:\n    d\nelif e:\n    f\nelse:\n    g\n",
    "if a:\n    if b:\n        c\n    d\ne\n",
    "for x in y:\n    pass\nelse:\n    pass\n",
    "for a, b in c, d:\n    break\n",
    "for (a, b) in c:\n    continue\n",
    "while x:\n    x -= 1\nelse:\n    y\n",
    "x = (\n    1 +\n    2\n)\n",
    "x = 1 + \\\n    2\n",
    "f(\n  a,\n  b=2,\n)\n",
    "x = [\n    1,\n    2,\n]\n",
    "def f():\n    x = 1\n\n\n    return x\n\n\ny = f()\n",
    "def f():\n  if x:\n        y\n  z\n",
    "x = print\nprint(x)\n",
    "print('a', end='')\n",
    "exec('x')\n",
    "type(x)\n",
    "match = 1\n",
    "x = a.match\n",
    "f(*a, *b, **c, **d)\n",
    "x = [*a, *b]\n",
    "x = {*a}\n",
    "x = a[b][c]\n",
    "x = a()()\n",
    "x = (a)(b)\n",
    "x = 'a'.join(b)\n",
    "x = [i for i in range(3)][0]\n",
    "lambda: 0\n",
    "x = yield\n",
    "try:\n    pass\nexcept E:\n    pass\n",
    "with a as b:\n    pass\n",
    "@d\ndef f():\n    pass\n",
    "async def f():\n    await x\n",
    "global x\n",
    "del x\n",
    "assert x\n",
    "raise E\n",
    "x = 1; y = 2\n",
    "if x: pass\n",
    "x = 1  # comment\n",
    "# only a comment\n",
    "x = (y := 1)\n",
    "print 'hello'\n",
    "\tx = 1\n",
    "x = 1\n\ty = 2\n",
    "if x:\n\ty = 2\n",
    "x = 1\r\n",
    "x = 1j\n",
    "x = 0777\n",
    "x = 1if y else 2\n",
    "s = '\\N{DASH}'\n",
    "s = '\\q'\n",
    "s = r'\\d'\n",
    "s = f'{x!r}'\n",
    "s = f'{x:>10}'\n",
    "s = f'{x=}'\n",
    "s = f'{{x}}'\n",
    "s = f'{f\"x\"}'\n",
    "x = 日本\n",
    "s = '日本'\n",
    "x = (\n",
    "x = )\n",
    "def f(:\n    pass\n",
    "if x:\npass\n",
    "x = 1\n  y = 2\n",
    "def f():\n    x = 1\n  y = 2\n",
    "f(a for a in b, c)\n",
    "f(a=1 for a in b)\n",
    "x = a if b\n",
    "x = [1, 2\n",
    "x = 'abc\n",
    "x = '''abc\n",
    "x = 1 +\n",
    "jc.load('artifacts/a.csv')\njc.save(x, 'artifacts/b.csv')\n",
    "df = jc.load(path='a')\njellycell.api.save(df, \"b\")\nJ.load('c')\n",
    "jc.deps('a', *names)\njc.figure('x.png')\njc.table(df, name='t')\np = jc.path('p')\n",
    "def f():\n    return jc.load('a')\n",
    "x = jc.load(('a'))\ny = jc.load('a' 'b')\nz = jc.load(f'{a}')\n",
    "jc.ctx.notebook\njc.loads('a')\njcx.load('a')\nxjc.load('a')\n",
    "print(f\"total: {total}\")\n",
    "total = sum(row[\"v\"] for row in rows)\n",
    "0                   \nimport matplotlib.pyplot as plt\n",
    "# a\nx\n# b\n",
    "x = 1  # c\ny = 2  # d",
    "def f():\n    x\n    # c\ny\n",
    "def f():\n    # c\n    x\n",
    "def f():  # c\n    x\n",
    "def f():\n    x\n# c\n    y\n",
    "def f():\n    if a:\n        x\n    # c\n# d\ny\n",
    "def f():\n    if a:\n        x  # c\n        # d\n    # e\n        # f\n# g\n",
    "if a:\n    x\n# c\nelse:\n    y\n",
    "if a:\n    b\nelse:\n    c  # x\n# y\nd\n",
    "for x in y:  # c\n    # d\n    z  # e\n    # f\n",
    "x = [\n  1,  # one\n  # c\n]\n",
    "f(a,  # c\n  b)\n",
    "x = 1 + \\\n  2\n",
    "x = \\\n  'a'\n",
    "s = 'a' \\\n    'b'\n",
    "s = '# not a comment'\n",
    "s = f'{x # y}'\n",
    "class A:\n    x = 1\n    # end\n",
    "print (a), b\n",
    "print(a) + 1\n",
    "print(a)(b)\n",
    "print (x)\n",
    "exec(a) in b\n",
    "match(x)\n",
    "x = not a == b\n",
    "x = a if not b else c\n",
    "x = [a for a in b if a if b]\n",
];

/// Text Python rejects (tree-sitter accepts the two wrong indentations, which the
/// lexical pass reports).
const BROKEN: &[&str] = &[
    "if x:\npass\n",
    "x = (\n",
    "x = )\n",
    "def f(:\n    pass\n",
    "x = 1\n  y = 2\n",
    "f(a for a in b, c)\n",
    "x = a if b\n",
    "x = [1, 2\n",
    "x = 'abc\n",
    "x = 1 +\n",
    "for x in :\n    pass\n",
    "class :\n    pass\n",
    "x = {1: }\n",
    "import\n",
    "from a import\n",
    "x y\n",
];

/// The cells of one bench notebook (as `/work/corpus/gen.py` writes them), as the
/// analysis sees them (jupytext uncomments the magic).
fn bench_cells() -> Vec<String> {
    let mut cells = Vec::new();
    for c in 1..10 {
        let name = format!("n0c{c}");
        let cell = match c % 5 {
            1 => format!(
                "import json\n\nrows = [{{\"k\": {c}, \"v\": 0}}]\njc.save(rows, \"artifacts/{name}.json\")\n"
            ),
            2 => format!(
                "rows = jc.load(\"artifacts/n0c{}.json\")\ntotal = sum(row[\"v\"] for row in rows)\nprint(f\"total: {{total}}\")\n",
                c - 1
            ),
            3 => format!(
                "%matplotlib inline\nimport matplotlib.pyplot as plt\n\nfig, ax = plt.subplots()\nax.plot([1, 2, 3])\njc.figure(\"artifacts/{name}.png\")\n"
            ),
            4 => format!(
                "def helper_{c}(x):\n    \"\"\"Double x.\"\"\"\n    return x * 2\n\nvalues = [helper_{c}(i) for i in range(10)]\n"
            ),
            _ => continue,
        };
        cells.push(cell);
    }
    cells
}

/// The code cells of a py:percent text (split at its `# %%` lines), and the whole text.
fn cells_of(text: &str) -> Vec<String> {
    let mut cells = vec![text.to_string()];
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        if line.starts_with("# %%") {
            cells.push(std::mem::take(&mut current));
        } else {
            current.push_str(line);
        }
    }
    cells.push(current);
    cells
}

/// A module's top-level statements, split crudely at lines starting a new statement.
fn top_level_statements(text: &str) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        let starts = line
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '@' || c == '_')
            && !["else", "elif", "except", "finally"]
                .iter()
                .any(|clause| line.starts_with(clause));
        if starts && !current.is_empty() {
            chunks.push(std::mem::take(&mut current));
        }
        current.push_str(line);
    }
    chunks.push(current);
    chunks
}

fn py_files_under(root: &Path, found: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|entry| entry.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            py_files_under(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "py") {
            found.push(path);
        }
    }
}

/// Named children of a tree-sitter node with each one's field id (0: none).
fn named_with_fields(node: Node) -> Vec<(Node, u16)> {
    let mut cursor = node.walk();
    let mut children = Vec::new();
    if cursor.goto_first_child() {
        loop {
            let child = cursor.node();
            if Node::is_named(&child) {
                children.push((child, cursor.field_id().map_or(0, |id| id.get())));
            }
            if !cursor.goto_next_sibling() {
                break;
            }
        }
    }
    children
}

fn same_tree(fast: FastNode, ts: Node, text: &str) -> Result<(), String> {
    let ts_kind = Node::kind(&ts);
    let where_ = || {
        format!(
            "{ts_kind} at {}..{}",
            Node::start_byte(&ts),
            Node::end_byte(&ts)
        )
    };
    if PyNode::kind(fast) != ts_kind
        || PyNode::start_byte(fast) != Node::start_byte(&ts)
        || PyNode::end_byte(fast) != Node::end_byte(&ts)
    {
        return Err(format!("{fast:?} where tree-sitter has {}", where_()));
    }
    let ts_children = named_with_fields(ts);
    let fast_children: Vec<FastNode> = fast.child_nodes().collect();
    if ts_children.len() != fast_children.len() {
        return Err(format!(
            "{} children of {} where tree-sitter has {}: {:?} vs {:?} in {:?}",
            fast_children.len(),
            where_(),
            ts_children.len(),
            fast_children,
            ts_children
                .iter()
                .map(|(node, _)| Node::kind(node))
                .collect::<Vec<_>>(),
            text.get(Node::start_byte(&ts)..Node::end_byte(&ts)),
        ));
    }
    for ((ts_child, field), fast_child) in ts_children.into_iter().zip(fast_children) {
        if fast_child.field() != field {
            return Err(format!(
                "{fast_child:?} has field {} where tree-sitter has {field}, in {}",
                fast_child.field(),
                where_()
            ));
        }
        same_tree(fast_child, ts_child, text)?;
    }
    Ok(())
}

#[derive(Default, Debug)]
struct Tally {
    samples: usize,
    accepted: usize,
}

/// Checks one text; counts whether the fast parser accepted it.
fn check(text: &str, tally: &mut Tally) {
    tally.samples += 1;
    let masked = mask_magics(text);
    let Some(fast) = parse_fast(&masked.text) else {
        return;
    };
    tally.accepted += 1;
    let ts = parse_python(&masked.text).expect("tree-sitter parses");
    let root = ts.root_node();
    assert!(
        !Node::has_error(&root),
        "the fast parser accepted text tree-sitter finds an error in: {text:?}"
    );
    if let Err(difference) = same_tree(fast.root_node(), root, &masked.text) {
        panic!("trees differ for {text:?}: {difference}");
    }
    let mut module_alias = Aliases::new();
    module_alias.insert_module("J", JcModule::Api);
    for aliases in [Aliases::new(), module_alias] {
        for full in [true, false] {
            let may_import = text.contains("import") && text.contains("jellycell");
            let wanted = Wanted {
                aliases: &aliases,
                may_import,
                may_call_api: may_import || aliases.may_appear_in(text),
                full,
            };
            let Ok(fast) = analyze_fast(text, mask_magics(text), &wanted) else {
                continue;
            };
            let slow = analyze_with_tree_sitter(text, mask_magics(text), &wanted);
            assert_eq!(fast, slow, "analyses differ for {text:?}");
            assert_eq!(
                fast.flow.0.get(),
                slow.flow.0.get(),
                "flows differ for {text:?}"
            );
        }
    }
}

/// The text with the character at each of a few places deleted, and doubled.
fn mutations(text: &str) -> Vec<String> {
    let boundaries: Vec<usize> = text.char_indices().map(|(index, _)| index).collect();
    let step = (boundaries.len() / 12).max(1);
    let mut mutated = Vec::new();
    for &at in boundaries.iter().step_by(step) {
        let width = text[at..].chars().next().map_or(0, char::len_utf8);
        mutated.push(format!("{}{}", &text[..at], &text[at + width..]));
        mutated.push(format!("{}{}", &text[..at + width], &text[at..]));
    }
    mutated
}

fn check_with_mutations(text: &str, tally: &mut Tally, mutated: &mut Tally) {
    check(text, tally);
    for mutation in mutations(text) {
        check(&mutation, mutated);
    }
}

#[test]
fn edge_cases_parse_as_tree_sitter_parses_them_or_are_declined() {
    let (mut tally, mut mutated) = (Tally::default(), Tally::default());
    for text in EDGE_CASES {
        check_with_mutations(text, &mut tally, &mut mutated);
    }
    eprintln!("edge cases: {tally:?}, mutations: {mutated:?}");
    assert!(tally.accepted * 2 > tally.samples, "{tally:?}");
}

#[test]
fn text_with_a_syntax_error_is_declined() {
    for text in BROKEN {
        assert!(parse_fast(text).is_none(), "accepted broken {text:?}");
    }
}

#[test]
fn deep_nesting_is_declined_without_overflowing_the_stack() {
    let depth = 5000;
    for (open, close) in [
        ("(", ")"),
        ("[", "]"),
        ("{", "}"),
        ("-", ""),
        ("not ", ""),
        ("f(", ")"),
    ] {
        let text = format!("x = {}1{}\n", open.repeat(depth), close.repeat(depth));
        assert!(parse_fast(&text).is_none(), "accepted {open}...{close}");
    }
    let mut text = String::new();
    for level in 0..300 {
        text.push_str(&" ".repeat(level * 4));
        text.push_str("if x:\n");
    }
    assert!(parse_fast(&text).is_none());
}

#[test]
fn bench_cells_are_all_accepted_and_equal() {
    let (mut tally, mut mutated) = (Tally::default(), Tally::default());
    for cell in bench_cells() {
        let masked = mask_magics(&cell);
        assert!(parse_fast(&masked.text).is_some(), "declined: {cell:?}");
        check_with_mutations(&cell, &mut tally, &mut mutated);
    }
    eprintln!("bench cells: {tally:?}, mutations: {mutated:?}");
    assert_eq!(tally.accepted, tally.samples, "{tally:?}");
}

#[test]
fn fixture_cells_parse_as_tree_sitter_parses_them_or_are_declined() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files = Vec::new();
    py_files_under(&root, &mut files);
    assert!(!files.is_empty(), "no fixtures under {}", root.display());
    let (mut tally, mut mutated) = (Tally::default(), Tally::default());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for cell in cells_of(&text) {
            check_with_mutations(&cell, &mut tally, &mut mutated);
        }
    }
    eprintln!("fixture cells: {tally:?}, mutations: {mutated:?}");
    assert!(tally.accepted > 0, "{tally:?}");
}

/// Optional corpora outside the repository: skipped with a note when absent.
#[test]
fn conformance_and_stdlib_parse_as_tree_sitter_parses_them_or_are_declined() {
    let mut files = Vec::new();
    py_files_under(Path::new("/work/shared/conformance"), &mut files);
    let (mut tally, mut mutated) = (Tally::default(), Tally::default());
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for cell in cells_of(&text) {
            check_with_mutations(&cell, &mut tally, &mut mutated);
        }
    }
    eprintln!("conformance cells: {tally:?}, mutations: {mutated:?}");
    let mut stdlib = Vec::new();
    py_files_under(Path::new("/usr/lib/python3.11"), &mut stdlib);
    stdlib.retain(|path| path.parent() == Some(Path::new("/usr/lib/python3.11")));
    if stdlib.is_empty() {
        eprintln!("note: no /usr/lib/python3.11/*.py here; the standard library sample is skipped");
        return;
    }
    let mut tally = Tally::default();
    let mut statements = Tally::default();
    for file in &stdlib {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for chunk in top_level_statements(&text) {
            check(&chunk, &mut statements);
        }
        check(&text, &mut tally);
    }
    eprintln!(
        "stdlib: {} files, {} accepted whole; top-level statements {:?} ({:.1}% accepted)",
        tally.samples,
        tally.accepted,
        statements,
        100.0 * statements.accepted as f64 / statements.samples.max(1) as f64
    );
}
