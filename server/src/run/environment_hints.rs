//! Which environment would run a notebook's kernel, found as a run finds it but without
//! building or starting anything, and what that environment lacks of the notebook's
//! names: the facts behind `missing-import` and `jc-without-jellycell`, and the
//! description a run's summary line gives (which the preview shows). One copy for
//! `--check` (`cli/check/environment.rs`), the editor (`lsp/environment_hints.rs`, probing
//! off the request path) and the preview, which share the memory of the answers
//! (`check/environments.json`, [`read_memory`]).

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::analysis::workspace::NotebookFile;
use crate::cache::key::notebook_kernel;
use crate::kernel::{
    Environment, EnvironmentChoice, EnvironmentKind, NotebookEnvironment, ProbeMemory,
    RemoteServer, SpecSearch,
};
use crate::lint::rules::environment::{EnvironmentFacts, NotebookNames};
use crate::project::Project;

/// What picks a notebook's environment: its kernel's name and its PEP-723 block.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct KernelTarget {
    pub kernel: String,
    pub notebook: NotebookEnvironment,
}

impl KernelTarget {
    /// The target of `file` in `project`: the kernel a run of it starts
    /// ([`notebook_kernel`]) and its PEP-723 block.
    pub fn of(project: &Project, file: &NotebookFile) -> KernelTarget {
        let block = file.notebook.pep723.as_ref();
        let kernel = notebook_kernel(project, &file.notebook);
        let notebook =
            block.map_or_else(NotebookEnvironment::default, |block| NotebookEnvironment {
                python: block.overrides.python.clone(),
                dependencies: block.dependencies.clone(),
                requires_python: block.requires_python.clone(),
            });
        KernelTarget { kernel, notebook }
    }
}

/// The environment the hints ask about for `target`: `None` when the project runs its
/// kernels on a Jupyter server (whose environment this machine cannot ask), while a
/// `pep723` environment is not built, or when no kernel can be told. Reads kernelspec
/// folders, and may run what `memory` cannot answer (`poetry env info`, whether the
/// `python3` on PATH imports ipykernel): call it off the async threads.
pub fn hints_environment(
    project: &Project,
    target: &KernelTarget,
    search: &SpecSearch,
    memory: &mut ProbeMemory,
) -> Option<Environment> {
    if project.config.run.server.is_some() {
        return None;
    }
    choice(project, target).environment_for_hints(&target.kernel, search, memory)
}

fn choice(project: &Project, target: &KernelTarget) -> EnvironmentChoice {
    let pep723_envs = project
        .config
        .run
        .pep723_env
        .then(|| project.lsp_cache_dir().join("envs"));
    EnvironmentChoice::for_project(&project.root, project.config.run.python.as_deref())
        .with_notebook(&target.notebook, pep723_envs)
}

/// The memory of `project`'s earlier probes (`check/environments.json`; empty outside a
/// jellycell project, where nothing is cached), or why it was ignored (damaged).
pub fn read_memory(project: &Project) -> Result<ProbeMemory, String> {
    memory_path(project).map_or_else(
        || Ok(ProbeMemory::default()),
        |path| ProbeMemory::read(&path),
    )
}

/// Writes `memory` back for the next check or editor session (not outside a project).
pub fn write_memory(project: &Project, memory: &mut ProbeMemory) {
    if let Some(path) = memory_path(project) {
        memory.write(&path);
    }
}

fn memory_path(project: &Project) -> Option<PathBuf> {
    project.config_path.as_ref()?;
    Some(
        project
            .lsp_cache_dir()
            .join("check")
            .join(ProbeMemory::FILE),
    )
}

/// What `environment` lacks of `names`, asking its Python only about names `memory` has
/// no answer for; `None` when that probe fails.
pub fn environment_facts(
    memory: &mut ProbeMemory,
    project: &Project,
    environment: &Environment,
    names: &NotebookNames,
) -> Option<EnvironmentFacts> {
    let (modules, distributions) = names.asked();
    let python = PathBuf::from(&environment.python);
    // pip too: the install command a hint names must work in that environment.
    let mut asked = modules.clone();
    if !asked.iter().any(|module| module == "pip") {
        asked.push("pip".to_string());
    }
    let answers = memory.answers(&python, &project.root, &asked, &distributions)?;
    let missing = |answered: &std::collections::BTreeMap<String, bool>, names: &[String]| {
        names
            .iter()
            .filter(|name| answered.get(name.as_str()) == Some(&false))
            .cloned()
            .collect::<BTreeSet<String>>()
    };
    let facts = EnvironmentFacts {
        description: environment.describe(),
        python: environment.python.clone(),
        missing_modules: missing(&answers.modules, &modules),
        missing_distributions: missing(&answers.distributions, &distributions),
        has_jellycell: answers.modules.get("jellycell") != Some(&false),
        has_pip: answers.modules.get("pip") != Some(&false),
    };
    Some(facts)
}

/// The environment that runs `target`'s kernel as a run's summary line names it
/// (`project venv /p/.venv/bin/python`, `remote python3 on https://hub/`), or what a run
/// would do first when there is none yet. Runs what [`hints_environment`] may run.
pub fn kernel_environment_text(
    project: &Project,
    target: &KernelTarget,
    search: &SpecSearch,
) -> String {
    if let Some(server) = &project.config.run.server {
        let server = RemoteServer::from_env(server, &project.config.run.token_env, "");
        return Environment {
            kind: EnvironmentKind::Remote,
            python: server.display_url(),
            kernel: Some(target.kernel.clone()),
            built: None,
        }
        .describe();
    }
    let choice = choice(project, target);
    let mut memory = read_memory(project).unwrap_or_default();
    let found = choice.environment_for_hints(&target.kernel, search, &mut memory);
    if memory.changed() {
        write_memory(project, &mut memory);
    }
    if let Some(environment) = found {
        return match environment.kind {
            // Not "(reused)": nothing ran yet.
            EnvironmentKind::Pep723 => format!("pep723 env {}", environment.python),
            _ => environment.describe(),
        };
    }
    if choice.pep723.is_some() {
        "pep723 env, built with uv by the next run".to_string()
    } else if target.kernel == "python3" {
        "no kernel \"python3\" found (install one: `python3 -m pip install ipykernel`)".to_string()
    } else {
        format!(
            "no kernel \"{}\" found (`jupyter kernelspec list` shows the installed ones)",
            target.kernel
        )
    }
}
