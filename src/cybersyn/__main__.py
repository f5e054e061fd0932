from cybersyn.cli import main

main()
