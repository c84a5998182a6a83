//! The summary's sentences in each language (see [`crate::i18n`]). Column names that are also
//! CSV columns (`busy`, `idle`, `os_children`, …) and the error-log lines stay as they are, so
//! a student can find them in `timeline.csv` and in Apache's own log.

use crate::i18n::Lang;

/// A timeline without rows.
pub fn empty(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "empty timeline",
        Lang::Es => "línea de tiempo vacía",
    }
}

/// The first line, up to the failures.
pub fn samples(lang: Lang, n: usize, secs: f64, fails: usize) -> String {
    match lang {
        Lang::En => {
            format!("timeline: {n} samples over {secs:.1} s; status fetch failures: {fails}")
        }
        Lang::Es => format!(
            "línea de tiempo: {n} muestras en {secs:.1} s; consultas de estado fallidas: {fails}"
        ),
    }
}

/// Where the process counts came from.
pub fn processes_from(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "processes from",
        Lang::Es => "procesos según",
    }
}

/// The first sample's line label.
pub fn start(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "start",
        Lang::Es => "inicio",
    }
}

/// The phase table's header.
pub fn phase_header(lang: Lang) -> &'static str {
    match lang {
        Lang::En => {
            "phase  target  t_start  t_end   procs@start -> max (t_max)  busy_max idle_min  held(client)  status_fail/polls"
        }
        Lang::Es => {
            " fase  objet.  t_inicio t_fin   procs@inicio -> máx (t_máx) busy_máx idle_mín  retenidas     fallos/consultas"
        }
    }
}

/// Why busy/idle may be missing while the load is on.
pub fn poll_note(lang: Lang) -> &'static str {
    match lang {
        Lang::En => {
            "(busy/idle come from successful status polls only; a failed poll while load is on usually means\n every worker was busy, so the poll itself waited in the queue past its 1 s timeout)"
        }
        Lang::Es => {
            "(busy/idle salen solo de las consultas de estado que funcionaron; una consulta fallida con carga suele\n significar que todos los trabajadores estaban ocupados y la consulta esperó en la cola más de su plazo de 1 s)"
        }
    }
}

/// The heading of the process-count runs.
pub fn changes(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "process-count changes (monotone runs; rate = processes/s):",
        Lang::Es => "cambios del número de procesos (tramos monótonos; ritmo = procesos/s):",
    }
}

/// "N steps".
pub fn steps(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "steps",
        Lang::Es => "pasos",
    }
}

/// The maximum and final process counts.
pub fn max_processes(lang: Lang, max: f64, t_max: f64, fin: f64, t_fin: f64) -> String {
    match lang {
        Lang::En => {
            format!("max processes: {max} (first at t={t_max:.1}); final: {fin} at t={t_fin:.1}")
        }
        Lang::Es => format!(
            "máximo de procesos: {max} (la primera vez en t={t_max:.1}); al final: {fin} en t={t_fin:.1}"
        ),
    }
}

/// The last change after the load ended.
pub fn after_load(lang: Lang, end: f64, procs: &str, last: f64) -> String {
    match lang {
        Lang::En => format!(
            "after load end (t={end:.1}, processes={procs}): last process-count change at t={last:.1} (+{:.1}s)",
            last - end
        ),
        Lang::Es => format!(
            "tras el fin de la carga (t={end:.1}, procesos={procs}): último cambio del número de procesos en t={last:.1} (+{:.1}s)",
            last - end
        ),
    }
}

/// The most busy workers, and the most worker slots alive.
pub fn max_busy(lang: Lang, busy: f64, total: &str) -> String {
    match lang {
        Lang::En => {
            format!("max busy workers: {busy}; max busy+idle (worker slots alive): {total}")
        }
        Lang::Es => format!(
            "máximo de trabajadores ocupados: {busy}; máximo de busy+idle (huecos de trabajador vivos): {total}"
        ),
    }
}

/// What /proc saw.
pub fn proc_max(lang: Lang, children: f64, threads: &str) -> String {
    match lang {
        Lang::En => format!("/proc: max children {children}, max threads (incl. parent) {threads}"),
        Lang::Es => format!(
            "/proc: máximo de procesos hijo {children}, máximo de hilos (con el padre) {threads}"
        ),
    }
}

/// The heading of the error-log section (its lines are Apache's, untranslated).
pub fn error_log(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "error_log (t relative to timeline start):",
        Lang::Es => "error_log (t relativo al inicio de la línea de tiempo):",
    }
}
