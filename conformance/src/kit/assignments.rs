//! The assignment table: which regions of the real source a student writes, and which tests
//! (with their rule and points) grade them. `mpm-lab assignment new` and `mpm-lab grade` both
//! read this table, and the regions themselves are found by their markers in the source
//! (`// ASSIGNMENT(name): begin` … `end`), so the kit never drifts from the code.

use std::time::Duration;

/// Which test executable a check runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    /// The conformance suite (`cargo test -p conformance --test conformance`).
    Conformance,
}

/// One graded test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// Where the test lives.
    pub runner: Runner,
    /// The full libtest name (`module::test`), run with `--exact`.
    pub test: &'static str,
    /// The rule it checks, as the score table prints it.
    pub rule: &'static str,
    /// The same in Spanish.
    pub rule_es: &'static str,
    /// Points when it passes (all or nothing).
    pub points: u32,
    /// It starts real servers (listed so the handout can say which checks are slow).
    pub real_server: bool,
}

/// One assignment.
#[derive(Debug, Clone, Copy)]
pub struct Assignment {
    /// The name used in markers and on the command line.
    pub name: &'static str,
    /// Its handout directory under `book/assignments/`.
    pub handout: &'static str,
    /// One line saying what the student writes.
    pub title: &'static str,
    /// Files holding its regions (checked by the kit's self-test: each has at least one).
    pub files: &'static [&'static str],
    /// The graded tests.
    pub checks: &'static [Check],
    /// Time budget for running all its checks (the build is not counted).
    pub budget: Duration,
}

impl Assignment {
    /// The points of all checks.
    pub fn max_points(&self) -> u32 {
        self.checks.iter().map(|c| c.points).sum()
    }
}

/// A graded test: where it runs, what it is worth, and whether it starts a real server.
const fn check(
    runner: Runner,
    real_server: bool,
    (test, rule, rule_es): (&'static str, &'static str, &'static str),
    points: u32,
) -> Check {
    Check {
        runner,
        test,
        rule,
        rule_es,
        points,
        real_server,
    }
}

/// A property test or loom model of the conformance suite.
const fn prop(test: &'static str, rule: &'static str, rule_es: &'static str, points: u32) -> Check {
    check(Runner::Conformance, false, (test, rule, rule_es), points)
}

/// A conformance test that starts the real binary.
const fn real(test: &'static str, rule: &'static str, rule_es: &'static str, points: u32) -> Check {
    check(Runner::Conformance, true, (test, rule, rule_es), points)
}

/// Every assignment, in handout order.
pub const ASSIGNMENTS: &[Assignment] = &[
    Assignment {
        name: "prefork-maintenance",
        handout: "01-prefork-maintenance",
        title: "prefork's idle-server maintenance: counts_as_idle, count, decide, the stop",
        // The executor's stop arm too: "one child per pass" is one byte on the pipe of death.
        files: &[
            "mpm-prefork/src/maintenance.rs",
            "mpm-prefork/src/parent/prefork_run.rs",
        ],
        checks: &[
            prop(
                "prefork_props::rule_03_starting_children_count_as_idle",
                "Step 1: a Starting child counts as idle",
                "Paso 1: un hijo en Starting cuenta como inactivo",
                15,
            ),
            prop(
                "prefork_props::rule_03_spawn_only_into_free_slots_below_max_request_workers",
                "Rules 3/4: spawn into the lowest free slots, at most `rate`",
                "Reglas 3/4: crea hijos en los huecos libres más bajos, como mucho `rate`",
                10,
            ),
            prop(
                "prefork_props::rule_03_spawn_sequence_doubles_to_32_and_resets",
                "Rules 3/9: batches 1, 2, 4 … 32, reset when the shortage ends",
                "Reglas 3/9: tandas de 1, 2, 4 … 32; vuelve a 1 al acabar la escasez",
                20,
            ),
            prop(
                "prefork_props::rule_06_at_most_one_child_stopped_per_pass",
                "Rule 6: one child stopped per pass, exactly when idle > MaxSpare",
                "Regla 6: un hijo detenido por pasada, justo cuando inactivos > MaxSpare",
                15,
            ),
            prop(
                "prefork_props::rule_06_runs_stay_bounded_and_converge_to_the_spare_range",
                "Rule 6 (simulator): runs stay bounded and settle in the spare range",
                "Regla 6 (simulador): no se pasan los límites y se estabiliza en el rango de reserva",
                10,
            ),
            real(
                "prefork_server::rule_04_min_spare_60_from_one_child_doubles_to_64",
                "Rule 4 (real server): from one child the batches double to 64",
                "Regla 4 (servidor real): desde un hijo, las tandas se duplican hasta 64",
                15,
            ),
            real(
                "prefork_server::rule_06_surplus_is_stopped_one_child_per_second",
                "Rule 6 (real server): a surplus shrinks by one child per second",
                "Regla 6 (servidor real): un excedente baja de un hijo por segundo",
                15,
            ),
        ],
        budget: Duration::from_secs(180),
    },
    Assignment {
        name: "worker-maintenance",
        handout: "02-worker-maintenance",
        title: "worker's spare-thread maintenance: decide",
        files: &["mpm-worker/src/maintenance.rs"],
        checks: &[
            prop(
                "worker_maintenance::rule_13_spawn_is_bounded_by_rate_and_free_slots",
                "Rule 13: spawn bounded by the rate and the free slots",
                "Regla 13: la creación está limitada por la tasa y los huecos libres",
                15,
            ),
            prop(
                "worker_maintenance::rule_09_rate_doubles_after_spawning_and_resets_otherwise",
                "Rule 9: the rate doubles after a spawn, resets otherwise",
                "Regla 9: la tasa se duplica tras crear hijos; si no, vuelve a 1",
                15,
            ),
            prop(
                "worker_maintenance::rule_12_one_stop_per_pass_exactly_when_idle_exceeds_max_spare",
                "Rule 12: one stop per pass, exactly when idle > MaxSpareThreads",
                "Regla 12: una parada por pasada, justo cuando inactivos > MaxSpareThreads",
                15,
            ),
            prop(
                "worker_maintenance::rule_14_maxclients_messages_at_most_once",
                "Rule 14: AH00286/AH00287 at most once per parent",
                "Regla 14: AH00286/AH00287 como mucho una vez por proceso padre",
                10,
            ),
            prop(
                "worker_maintenance::rule_28_over_server_limit_logs_ah00288_every_pass",
                "Rule 28: AH00288 every pass when ServerLimit is the bound",
                "Regla 28: AH00288 en cada pasada cuando el límite es ServerLimit",
                10,
            ),
            prop(
                "worker_maintenance::rule_11_thresholds_and_spawn_rate_are_per_bucket",
                "Rule 11: thresholds and spawn rate per listener bucket",
                "Regla 11: umbrales y tasa de creación por grupo de escucha",
                10,
            ),
            prop(
                "threaded_props::rule_11_thresholds_and_rate_cap_with_one_bucket_worker",
                "Rule 11: thresholds and the rate cap of 32 with one bucket",
                "Regla 11: umbrales y tope de tasa de 32 con un grupo",
                10,
            ),
            real(
                "worker_server::rule_13_reference_shape_grows_2_3_4_6_caps_with_ah00286_then_stops_one_per_second",
                "Rule 13 (real server): grows 2, 3, 4, 6, AH00286, then shrinks one per second",
                "Regla 13 (servidor real): crece 2, 3, 4, 6, AH00286 y luego baja uno por segundo",
                15,
            ),
        ],
        budget: Duration::from_secs(180),
    },
    Assignment {
        name: "queue-info",
        handout: "03-queue-info",
        title: "queue_info: set_idle and wait_for_idler (the listener waits for an idle worker)",
        files: &["httpd-core/src/fdqueue.rs"],
        checks: &[
            prop(
                "loom_fdqueue::listener_never_accepts_without_an_idle_worker",
                "Rule 2 (loom): the listener never accepts without an idle worker",
                "Regla 2 (loom): el hilo de escucha nunca acepta sin un hilo trabajador libre",
                15,
            ),
            prop(
                "loom_fdqueue::no_wakeup_is_lost",
                "Step 1 (loom): no wake-up is lost",
                "Paso 1 (loom): no se pierde ningún aviso",
                20,
            ),
            prop(
                "loom_fdqueue::every_pushed_socket_is_popped_exactly_once",
                "Step 3/4 (loom): every socket popped exactly once",
                "Pasos 3/4 (loom): cada socket se saca exactamente una vez",
                10,
            ),
            prop(
                "loom_fdqueue::term_wakes_everyone",
                "Step 5 (loom): term wakes every waiter",
                "Paso 5 (loom): term despierta a todos los que esperan",
                15,
            ),
            prop(
                "fdqueue_std::fdqueue_tests::wait_for_idler_returns_at_once_when_a_worker_is_idle",
                "Step 2: an idle worker is reserved at once",
                "Paso 2: un hilo libre se reserva al instante",
                5,
            ),
            prop(
                "fdqueue_std::fdqueue_tests::wait_for_idler_blocks_until_set_idle",
                "Step 2: the listener sleeps until set_idle",
                "Paso 2: el hilo de escucha duerme hasta set_idle",
                10,
            ),
            prop(
                "fdqueue_std::fdqueue_tests::term_wakes_a_waiting_listener_and_refuses_later_reservations",
                "Step 5: term wakes the listener and refuses later reservations",
                "Paso 5: term despierta al hilo de escucha y rechaza reservas posteriores",
                10,
            ),
            real(
                "worker_server::rule_02_defaults_start_three_children_of_25_workers_listener_and_main",
                "Rule 2 (real worker server): the default shape serves requests",
                "Regla 2 (servidor worker real): la forma por defecto sirve peticiones",
                15,
            ),
        ],
        budget: Duration::from_secs(240),
    },
    Assignment {
        name: "event-accept-limit",
        handout: "04-event-accept-limit",
        title: "event's accept limit and keep-alive queue: connections_above_limit, expire, drain_all",
        files: &[
            "mpm-event/src/accept_limit.rs",
            "mpm-event/src/keepalive_queue.rs",
        ],
        checks: &[
            prop(
                "event_props::rule_30_accept_limit_formula",
                "Rule 30: the accept-limit formula, truncation and hysteresis",
                "Regla 30: la fórmula del límite de aceptación, truncamiento e histéresis",
                25,
            ),
            prop(
                "event_props::rule_33_timeout_queue_expires_exactly_the_due_entries",
                "Rule 33: a timeout queue expires exactly the due entries",
                "Regla 33: una cola de plazos expira exactamente las entradas vencidas",
                20,
            ),
            prop(
                "loom_event::listener_never_stays_disabled_while_a_worker_is_idle",
                "Rule 30 (loom): listeners come back once a worker is idle",
                "Regla 30 (loom): la escucha vuelve en cuanto hay un hilo libre",
                10,
            ),
            real(
                "event_server::rule_30_accept_limit_cuts_in_where_the_formula_says",
                "Rule 30 (real server): accepting stops where the formula says",
                "Regla 30 (servidor real): deja de aceptar donde dice la fórmula",
                15,
            ),
            real(
                "event_server::rule_43_graceful_restart_closes_idle_keepalive_connections_at_once",
                "Rule 43 (real server): a stopping child closes all its keep-alive connections at once",
                "Regla 43 (servidor real): un proceso hijo que termina cierra de golpe todas sus conexiones persistentes",
                15,
            ),
            real(
                "event_server::rule_33_keepalive_timeout_closes_idle_connections_on_time",
                "Rule 33 (real server): KeepAliveTimeout closes idle connections on time",
                "Regla 33 (servidor real): KeepAliveTimeout cierra a tiempo las conexiones inactivas",
                15,
            ),
        ],
        budget: Duration::from_secs(180),
    },
    Assignment {
        name: "graceful-restart",
        handout: "05-graceful-restart",
        title: "prefork's restart bookkeeping: new generation, pipe of death, G slots, SIGHUP",
        files: &["mpm-prefork/src/parent/prefork_run.rs"],
        checks: &[
            real(
                "status_generation::rule_41_generation_and_restart_time_across_restarts::prefork",
                "Rule 41: each restart is a new generation",
                "Regla 41: cada reinicio es una nueva generación",
                20,
            ),
            real(
                "prefork_server::rule_42_graceful_restart_marks_old_children_g_and_drops_no_connection",
                "Rule 42: old children show G and drop no connection",
                "Regla 42: los hijos antiguos muestran G y no pierden ninguna conexión",
                30,
            ),
            real(
                "http_keepalive::rule_70_sync_mpms_close_keepalive_after_inflight_request_on_graceful::prefork",
                "Rule 70: a graceful restart closes keep-alive after the request in flight",
                "Regla 70: un reinicio ordenado cierra la conexión persistente tras la petición en curso",
                25,
            ),
            real(
                "prefork_server::rule_48_sighup_kills_children_and_restarts_start_servers",
                "Rule 48: SIGHUP kills the children and starts StartServers new ones",
                "Regla 48: SIGHUP mata a los hijos y arranca StartServers nuevos",
                25,
            ),
        ],
        budget: Duration::from_secs(240),
    },
];

/// The assignment called `name`.
pub fn find(name: &str) -> Option<&'static Assignment> {
    ASSIGNMENTS.iter().find(|a| a.name == name)
}

/// Every name, for error messages.
pub fn names() -> String {
    ASSIGNMENTS
        .iter()
        .map(|a| a.name)
        .collect::<Vec<_>>()
        .join(", ")
}
