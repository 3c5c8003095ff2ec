"""``numpynn evaluate RUN_DIR``: test loss and accuracy of a run folder's model."""


def add_arguments(parser):
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by numpynn train")
    parser.add_argument("--dataset", metavar="NAME", help="evaluate on this dataset's test "
                        "split instead of the run's own (same input size)")
    parser.add_argument("--data-dir", metavar="DIR", help="folder holding the dataset files")
    parser.add_argument("--best", action="store_true", help="evaluate model-best.npz (the "
                        "best-by-validation weights) instead of model.npz")
    parser.add_argument("--no-download", dest="download", action="store_false",
                        help="never download missing dataset files")


def run(args):
    from numpynn.cli import run as runs

    model_file = runs.BEST_MODEL if args.best else runs.MODEL
    result = runs.evaluate(args.run_dir, args.dataset, args.data_dir, args.download, model_file)
    print(f"{result['dataset']} test set ({result['n']} samples, {model_file}): "
          f"test_acc={result['acc']:.4f} test_loss={result['loss']:.4f}")
    return 0
