using Xunit;

// One portal test at a time: each starts its own Stratus, chromium and often a QEMU VM, and two of them at once,
// next to another project's VMs on two cores, stalled chromium for over 30 s on CI (a page load, a screenshot).
[assembly: CollectionBehavior(DisableTestParallelization = true)]
