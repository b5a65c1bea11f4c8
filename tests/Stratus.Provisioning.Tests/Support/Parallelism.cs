// The tests mostly wait for the control plane, each class on a stratus process of its own: running every class at
// once, not two at a time (one per core, xunit's default), is what keeps the project within its few minutes.
[assembly: CollectionBehavior(MaxParallelThreads = -1)]
