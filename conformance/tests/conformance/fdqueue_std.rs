//! httpd-core's `fdqueue` unit tests (real threads, real time), compiled here as well against
//! the library (std, not loom), so the course kit grades the queue-info assignment from this
//! test binary alone instead of a second, test-mode build of httpd-core. The file is
//! httpd-core's own; it names the module under test `super::fdqueue`.

use httpd_core::fdqueue;

#[path = "../../../httpd-core/src/fdqueue_tests.rs"]
mod fdqueue_tests;
