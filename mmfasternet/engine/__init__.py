"""What the tools share: config loading and overrides (:mod:`.tool_config`), data pre-flight
checks (:mod:`.data_check`), launchers (:mod:`.launch`), checkpoints and raw predictions
written in one step (:mod:`.checkpoint_storage`, :mod:`.dump_results`), and the hooks the
configs use (:mod:`.hooks`). Nothing is imported here, so that a hook's registration imports
only its own module."""
