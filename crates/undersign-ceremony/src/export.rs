//! Placeholder, filled in with phase 2.
