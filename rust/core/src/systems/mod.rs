//! Systems: what a model costs on real hardware, as `scaleplan.systems` prices it. Here, the
//! serving roofline ([`serving`]): the time and bytes of one decode or prefill step of a
//! shape on a GPU or a tensor-parallel group. The shape and its counts are [`crate::arch`]'s;
//! what a step's cost makes of the lifetime optimum is [`crate::optimal`]'s.

pub mod serving;
