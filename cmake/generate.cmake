# cmake -DPROGRAM=a2i2a -DOUTDIR=DIR -P generate.cmake: the files the program writes from its
# option tables, for installation: the bash and zsh completions and the man page. The
# environment that would put this machine's paths and models into them is cleared first.
foreach(var A2I2A_MODEL HF_HOME HF_HUB_CACHE XDG_CACHE_HOME)
  unset(ENV{${var}})
endforeach()
set(ENV{HOME} "~") # the default Hugging Face cache, as the help then shows it: ~/.cache/huggingface/hub
foreach(pair "a2i2a.bash|completion;bash" "_a2i2a|completion;zsh" "a2i2a.1|manpage")
  string(REPLACE "|" ";" pair "${pair}")
  list(POP_FRONT pair file)
  execute_process(COMMAND ${PROGRAM} ${pair} OUTPUT_FILE ${OUTDIR}/${file} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} ${pair}: exit status ${rc}")
  endif()
endforeach()
