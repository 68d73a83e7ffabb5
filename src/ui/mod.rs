//! See README's Architecture section. (Work in progress.)
