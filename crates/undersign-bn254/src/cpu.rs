//! Run-time CPU checks for code compiled for newer x86-64 processors.
//!
//! Release builds target baseline x86-64, so the tools run on any 64-bit PC. A few hot loops
//! (Poseidon's permutation, the prover's multi-scalar multiplication, proof decoding) are
//! compiled a second time with `#[target_feature(enable = "bmi2,adx")]`, and callers pick that
//! copy only when [`has_bmi2_adx`] says the CPU has those instructions. In that copy LLVM
//! compiles the field multiplications it inlines with `mulx` (arkworks' own assembly is chosen
//! at build time and is not used); code it does not inline runs as in the portable copy. Both
//! copies are the same source and compute the same values; the tests compare them, and
//! `cargo bench` measures the gain.

/// Whether this CPU has BMI2 and ADX (`mulx`, `adcx`, `adox`): every x86-64 CPU since about
/// 2015 (Intel Broadwell, AMD Zen). Code compiled with
/// `#[target_feature(enable = "bmi2,adx")]` may run only where this is `true`. Always `false`
/// on other architectures. The answer is cached by the standard library.
#[inline]
pub fn has_bmi2_adx() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("bmi2") && std::arch::is_x86_feature_detected!("adx")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
