# Sweeps, their evaluation and refinement (docs/SWEEP.md).
target_sources(mpb_mpi PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/mpb_sweep_points.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_sweep_pass.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_sweep_resume.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_sweep_recheck.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_sweep_run.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_sweep_cli.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_eval.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_eval_cmd.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_eval_score.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_eval_records.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_refine.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_pareto.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_eval_plot.c
  ${CMAKE_CURRENT_LIST_DIR}/mpb_plot_svg.c)
