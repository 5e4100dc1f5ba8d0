//! Which instruction set the lane loops run on: each hot loop (the vectorised Newton, the
//! fit objective) is compiled once per [`Isa`] and the best one the CPU has is picked at
//! run time. Every copy gives the same bits: Rust never fuses `a * b + c` and the loops
//! use only IEEE operations (no approximate reciprocals), so the copies differ only in how
//! many lanes one instruction holds. The tests run every copy the CPU supports.

use std::sync::OnceLock;

/// An instruction set a lane loop is compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isa {
    /// Whatever the build targets (SSE2 on x86-64): 2 f64 lanes per instruction.
    Portable,
    /// AVX2 with FMA units (the FMAs are never used for `a * b + c`): 4 lanes.
    Avx2,
    /// AVX-512 F/DQ/VL: 8 lanes, one register per lane array.
    Avx512,
}

impl Isa {
    /// Every path, best first.
    pub const ALL: [Isa; 3] = [Isa::Avx512, Isa::Avx2, Isa::Portable];

    /// The public name (`SCALEPLAN_SIMD` takes these).
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    /// Whether this CPU can run the path.
    pub fn supported(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                Isa::Avx2.supported()
                    && std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512vl")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The path the lane loops take: the best the CPU supports, or at most the one named
    /// by the environment variable `SCALEPLAN_SIMD` (read once; for measuring one path
    /// against another on the same machine, the answers being the same).
    pub fn active() -> Isa {
        static ACTIVE: OnceLock<Isa> = OnceLock::new();
        *ACTIVE.get_or_init(|| {
            let cap = std::env::var("SCALEPLAN_SIMD")
                .ok()
                .and_then(|v| Isa::ALL.into_iter().find(|i| i.name() == v))
                .unwrap_or(Isa::Avx512);
            Isa::ALL
                .into_iter()
                .find(|i| *i <= cap && i.supported())
                .unwrap_or(Isa::Portable)
        })
    }
}

/// Runs `body` compiled for `isa`, or as the build targets when the CPU lacks it: one
/// dispatch for any lane loop (the dual's use it). `body` must be `#[inline(always)]` so that it is compiled inside each copy
/// below, with that copy's features.
#[inline(always)]
pub(crate) fn on_isa<R>(isa: Isa, body: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if isa == Isa::Avx512 && isa.supported() {
            // SAFETY: the CPU has every feature the function is compiled for (checked).
            return unsafe { on_avx512(body) };
        }
        if isa == Isa::Avx2 && isa.supported() {
            // SAFETY: as above.
            return unsafe { on_avx2(body) };
        }
    }
    body()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn on_avx2<R>(body: impl FnOnce() -> R) -> R {
    body()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
fn on_avx512<R>(body: impl FnOnce() -> R) -> R {
    body()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_active_path_is_supported_and_portable_always_is() {
        assert!(Isa::active().supported());
        assert!(Isa::Portable.supported());
        if Isa::Avx512.supported() {
            assert!(Isa::Avx2.supported());
        }
    }
}
