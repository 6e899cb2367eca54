"""What a run or a training shows: memory metrics, gate statistics, the memory lab, training."""
