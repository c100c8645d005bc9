//! One fixture per construct `cell_flow` models, and the notebook-level `producers`.

use super::*;

fn flow(code: &str) -> CellFlow {
    cell_flow_uncached(code)
}

fn defines(code: &str) -> Vec<String> {
    flow(code).defines
}

fn reads(code: &str) -> Vec<String> {
    flow(code).reads
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

#[test]
fn plain_tuple_and_star_assignments_define() {
    assert_eq!(
        defines("a = 1\nb, (c, *d) = x\n[e, f] = g = h\n"),
        strings(&["a", "b", "c", "d", "e", "f", "g"])
    );
    assert_eq!(
        reads("a = 1\nb, (c, *d) = x\n[e, f] = g = h\n"),
        strings(&["h", "x"])
    );
}

#[test]
fn annotated_assignment_without_value_binds_nothing() {
    let flow = flow("n: int\nm: Count = 3\n");
    assert_eq!(flow.defines, strings(&["m"]));
    assert_eq!(flow.reads, strings(&["Count"]));
}

#[test]
fn augmented_assignment_reads_and_defines() {
    let flow = flow("total += step\n");
    assert_eq!(flow.defines, strings(&["total"]));
    assert_eq!(flow.reads, strings(&["step", "total"]));
}

#[test]
fn def_and_class_define_their_names() {
    let flow = flow(
        "def f(a, b=default, *args, c: int = 1, **kw):\n    return a + b + c + g\nclass K(Base):\n    x = 1\n    y = x + 1\n    def m(self):\n        return x\n",
    );
    assert_eq!(flow.defines, strings(&["K", "f"]));
    // `x` in the method is not the class attribute: it is a global.
    assert_eq!(flow.reads, strings(&["Base", "default", "g", "x"]));
    assert_eq!(flow.deferred_reads, strings(&["g", "x"]));
    assert_eq!(flow.callable_reads["f"], strings(&["g"]));
    assert_eq!(flow.callable_reads["K"], strings(&["x"]));
}

#[test]
fn imports_bind_the_first_part_or_the_alias() {
    let flow = flow("import a.b\nimport numpy as np\nfrom os import path, sep as s\n");
    assert_eq!(flow.defines, strings(&["a", "np", "path", "s"]));
    assert_eq!(flow.imports, strings(&["a", "np", "path", "s"]));
    assert!(flow.reads.is_empty());
}

#[test]
fn for_and_with_targets_define() {
    let flow = flow(
        "for i, (j, k) in pairs:\n    pass\nwith open(p) as fh, g() as (u, v):\n    w = fh.read()\n",
    );
    assert_eq!(flow.defines, strings(&["fh", "i", "j", "k", "u", "v", "w"]));
    assert_eq!(flow.reads, strings(&["g", "p", "pairs"]));
    assert_eq!(flow.surely_binds, strings(&["fh", "u", "v", "w"]));
}

#[test]
fn walrus_binds_at_module_level_even_in_a_comprehension() {
    let flow = flow("if (n := len(xs)) > 1:\n    pass\nys = [last := y for y in xs]\n");
    assert_eq!(flow.defines, strings(&["last", "n", "ys"]));
    assert_eq!(flow.reads, strings(&["xs"]));
}

#[test]
fn global_in_a_function_defines_the_name() {
    let flow = flow("def bump():\n    global counter\n    counter += 1\n");
    assert_eq!(flow.defines, strings(&["bump", "counter"]));
    assert!(flow.surely_binds.contains(&"bump".to_string()));
    assert!(!flow.surely_binds.contains(&"counter".to_string()));
}

#[test]
fn del_of_a_name_defines_it_and_del_of_an_item_mutates() {
    let flow = flow("del old\ndel table[key], obj.attr\n");
    assert_eq!(flow.defines, strings(&["obj", "old", "table"]));
    assert_eq!(flow.reads, strings(&["key", "obj", "table"]));
}

#[test]
fn function_parameters_and_locals_are_not_reads() {
    let flow = flow(
        "def f(x, *rest, **options):\n    y = x + len(rest)\n    for z in options:\n        y += z\n    return y, later\n",
    );
    assert_eq!(flow.reads, strings(&["later"]));
}

#[test]
fn nested_functions_see_enclosing_locals() {
    let flow = flow(
        "def outer(a):\n    b = a\n    def inner():\n        nonlocal b\n        return a + b + c\n    return inner\n",
    );
    assert_eq!(flow.reads, strings(&["c"]));
}

#[test]
fn comprehension_variables_are_not_reads() {
    let flow = flow(
        "squares = [x * x for x in xs if x > cutoff]\npairs = {k: v for k, v in d.items()}\ntotal = sum(y for y in ys)\n",
    );
    assert_eq!(flow.reads, strings(&["cutoff", "d", "xs", "ys"]));
}

#[test]
fn lambdas_read_globals_when_called() {
    let flow = flow("key = lambda row, scale=factor: row[column] * scale\n");
    assert_eq!(flow.reads, strings(&["column", "factor"]));
    assert_eq!(flow.deferred_reads, strings(&["column"]));
}

#[test]
fn builtins_and_ipython_names_are_maybe_reads() {
    let flow = flow("print(len(data), __file__, get_ipython(), display, _1, _i3)\n");
    assert_eq!(flow.reads, strings(&["data"]));
    assert!(flow.maybe_reads.contains(&"print".to_string()));
    assert!(flow.maybe_reads.contains(&"display".to_string()));
}

#[test]
fn names_bound_before_reading_are_not_reads() {
    let flow = flow("rows = []\nrows.append(1)\nprint(rows)\n");
    assert_eq!(flow.defines, strings(&["rows"]));
    assert!(flow.reads.is_empty());
    assert!(flow.method_mutates.is_empty());
}

#[test]
fn a_read_before_the_binding_is_a_read() {
    assert_eq!(reads("print(x)\nx = 2\n"), strings(&["x"]));
    assert_eq!(reads("x = x + 1\n"), strings(&["x"]));
}

#[test]
fn a_conditional_binding_leaves_the_name_a_maybe_read() {
    let flow = flow("if flag:\n    mode = 'a'\nprint(mode)\n");
    assert_eq!(flow.reads, strings(&["flag"]));
    assert_eq!(flow.maybe_reads, strings(&["mode", "print"]));
    assert!(flow.surely_binds.is_empty());
}

#[test]
fn subscript_and_attribute_assignment_mutate() {
    let flow = flow("df['total'] = df.a + df.b\nmodel.weights[0] = w\ncfg.path.name = 'x'\n");
    assert_eq!(flow.defines, strings(&["cfg", "df", "model"]));
    assert_eq!(flow.reads, strings(&["cfg", "df", "model", "w"]));
    assert!(flow.surely_binds.is_empty());
}

#[test]
fn augmented_assignment_of_an_item_mutates() {
    let flow = flow("counts[word] += 1\n");
    assert_eq!(flow.defines, strings(&["counts"]));
    assert_eq!(flow.reads, strings(&["counts", "word"]));
}

#[test]
fn mutating_methods_define_the_receiver() {
    let flow = flow(
        "rows.append(4)\nlookup.update(extra)\nseen.add(1)\ndf.sort_values('a', inplace=True)\ndf2['c'].fillna(0, inplace=True)\n",
    );
    assert_eq!(
        flow.defines,
        strings(&["df", "df2", "lookup", "rows", "seen"])
    );
    assert_eq!(flow.method_mutates, strings(&["lookup", "rows", "seen"]));
}

#[test]
fn mutating_functions_define_their_first_argument() {
    let flow =
        flow("import random\nrandom.shuffle(deck)\nnp.copyto(dst, src)\nheapq.heappush(heap, 3)\n");
    assert_eq!(flow.defines, strings(&["deck", "dst", "heap", "random"]));
}

#[test]
fn reading_methods_are_reads_only() {
    let flow =
        flow("df.head()\nprint(df)\nlen(rows)\ndf.describe().sort_values('x')\nsorted(rows)\n");
    assert!(flow.defines.is_empty());
    assert_eq!(flow.reads, strings(&["df", "rows"]));
}

#[test]
fn a_method_call_on_a_chain_from_a_call_mutates_no_name() {
    assert!(defines("make().append(1)\n").is_empty());
}

#[test]
fn inplace_false_is_not_a_mutation() {
    assert!(defines("df.dropna(inplace=False)\n").is_empty());
}

#[test]
fn mutation_inside_a_function_body_is_not_tracked() {
    let flow = flow("def add(x):\n    rows.append(x)\n");
    assert_eq!(flow.defines, strings(&["add"]));
    assert_eq!(flow.reads, strings(&["rows"]));
}

#[test]
fn star_imports_run_exec_and_globals_define_everything() {
    for code in [
        "from m import *\n",
        "%run other.py\n",
        "exec(code)\n",
        "globals()['x'] = 1\n",
        "vars()\n",
        "get_ipython().run_line_magic('run', 'x.py')\n",
        "%store -r data\n",
    ] {
        let flow = flow(code);
        assert!(flow.defines_everything, "{code}");
        assert!(flow.everything_reason.is_some(), "{code}");
    }
    assert!(!flow("%matplotlib inline\nx = 1\n").defines_everything);
}

#[test]
fn magics_are_masked_and_shell_assignments_bind() {
    let flow = flow("%matplotlib inline\nfiles = !ls\n%time y = f(x)\n");
    assert_eq!(flow.defines, strings(&["files", "y"]));
    assert_eq!(flow.reads, strings(&["f", "x"]));
}

#[test]
fn capture_cell_magic_binds_its_target() {
    let flow = flow("%%capture out\nprint(x)\n");
    assert_eq!(flow.defines, strings(&["out"]));
    assert_eq!(flow.reads, strings(&["x"]));
}

#[test]
fn except_as_binds_and_the_exception_class_is_read() {
    let flow = flow("try:\n    v = risky()\nexcept (KeyError, MyError) as e:\n    print(e)\n");
    assert_eq!(flow.reads, strings(&["MyError", "risky"]));
    assert_eq!(flow.defines, strings(&["e", "v"]));
}

#[test]
fn match_captures_bind_and_value_patterns_read() {
    let code = "match cmd:\n    case Point(x=0, y=yy) as p:\n        print(yy, p)\n    case [first, *rest]:\n        print(first, rest)\n    case {'k': val, **others}:\n        pass\n    case Color.RED:\n        pass\n    case other if other > limit:\n        pass\n    case _:\n        pass\n";
    let flow = flow(code);
    assert_eq!(flow.reads, strings(&["Color", "Point", "cmd", "limit"]));
    assert_eq!(
        flow.defines,
        strings(&["first", "other", "others", "p", "rest", "val", "yy"])
    );
}

#[test]
fn decorators_annotations_and_fstrings_are_read() {
    let flow =
        flow("@register(kind)\ndef f(a: Frame) -> Result:\n    return f'{a!r} {width:>{pad}}'\n");
    assert_eq!(
        flow.reads,
        strings(&["Frame", "Result", "kind", "pad", "register", "width"])
    );
    assert_eq!(flow.deferred_reads, strings(&["pad", "width"]));
}

#[test]
fn keyword_argument_names_and_attributes_are_not_reads() {
    assert_eq!(
        reads("plot(data, color=red_value).axis.label\n"),
        strings(&["data", "plot", "red_value"])
    );
}

#[test]
fn a_function_reading_a_name_its_cell_defines_later_is_not_a_read() {
    let flow = flow("def total():\n    return sum(rows)\nrows = [1]\n");
    assert!(flow.reads.is_empty());
    assert!(flow.maybe_reads.contains(&"rows".to_string()));
}

#[test]
fn a_cell_that_does_not_parse_still_yields_what_it_can() {
    let flow = flow("x = (1,\ny = z\n");
    let _ = flow.defines;
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let depth = 5000;
    let _ = flow(&format!(
        "{}a{} = 1\n",
        "(".repeat(depth),
        ")".repeat(depth)
    ));
    let _ = flow(&format!("{}x{}\n", "f(".repeat(depth), ")".repeat(depth)));
}

#[test]
fn the_memo_returns_the_same_flow() {
    let code = "memo_probe = other_probe\n";
    assert_eq!(cell_flow(code), cell_flow(code));
    assert_eq!(cell_flow(code), flow(code));
}

fn notebook(cells: &[&str]) -> Vec<Vec<(String, usize)>> {
    let flows: Vec<CellFlow> = cells.iter().map(|code| flow(code)).collect();
    let refs: Vec<&CellFlow> = flows.iter().collect();
    producers(&refs)
}

fn pairs(list: &[(&str, usize)]) -> Vec<(String, usize)> {
    list.iter()
        .map(|(name, at)| (name.to_string(), *at))
        .collect()
}

#[test]
fn producers_name_the_last_definer_above() {
    let producers = notebook(&["data = [1]", "data = [2]", "print(sum(data))", "other = 1"]);
    assert_eq!(producers[2], pairs(&[("data", 1)]));
    assert!(producers[0].is_empty());
    assert!(producers[3].is_empty());
}

#[test]
fn a_mutating_cell_between_is_a_producer() {
    let producers = notebook(&["rows = [1, 2, 3]", "rows.append(4)", "print(rows)"]);
    assert_eq!(producers[2], pairs(&[("rows", 1)]));
    assert_eq!(producers[1], pairs(&[("rows", 0)]));
}

#[test]
fn a_method_call_on_an_imported_module_is_not_a_mutation() {
    let producers = notebook(&["import numpy as np", "a = np.append(b, 1)", "print(np.pi)"]);
    assert_eq!(producers[2], pairs(&[("np", 0)]));
}

#[test]
fn a_conditional_definer_keeps_the_one_above() {
    let producers = notebook(&["mode = 'a'", "if flag:\n    mode = 'b'", "print(mode)"]);
    assert_eq!(producers[2], pairs(&[("mode", 0), ("mode", 1)]));
}

#[test]
fn a_star_import_is_a_possible_producer_of_anything() {
    let producers = notebook(&["x = 1", "from m import *", "print(x)"]);
    assert_eq!(producers[2], pairs(&[("print", 1), ("x", 0), ("x", 1)]));
}

#[test]
fn calling_a_function_reads_its_globals_from_the_callers_view() {
    let producers = notebook(&["def show():\n    return data", "data = 1", "show()"]);
    assert_eq!(producers[2], pairs(&[("data", 1), ("show", 0)]));
}

#[test]
fn a_shadowed_builtin_has_a_producer() {
    let producers = notebook(&["sum = 0", "print(sum)"]);
    assert_eq!(producers[1], pairs(&[("sum", 0)]));
}

#[test]
fn renaming_an_unrelated_variable_changes_no_producer() {
    let before = notebook(&["data = [1]", "unused = 2", "print(data)"]);
    let after = notebook(&["data = [1]", "renamed = 2", "print(data)"]);
    assert_eq!(before[2], after[2]);
}

#[test]
fn only_format_strings_read_the_names_in_their_braces() {
    let code = "a = '{x}'\nb = rb\"{y}\"\nc = f'{z}' 'and {w}'\nd = Rf\"{v!r:>{pad}}\"\ne = t'{u}'\ng = '''{s}''' F'''{q}'''\n";
    assert_eq!(reads(code), strings(&["pad", "q", "u", "v", "z"]));
}
